// Command anyserver is a grpc-go server for services it learns at run time: it reads a
// descriptor set (protoc --include_imports --descriptor_set_out=FILE ...) and serves every
// service in it with messages built by dynamicpb, no generated code. The tests use it as
// a real peer running services the workbench has never been compiled with.
//
// Usage: anyserver --listen ADDR --descriptors FILE [--reflection]
// It prints the address it listens on as its first line (ADDR may end in :0).
// --reflection adds grpc-go's server reflection (grpc.reflection.v1alpha in this grpc-go),
// which then describes the files of the descriptor set.
//
// What a method does depends on its name (the service's name does not matter):
//
//	AddFunc  (pb.AddName/AddFunc, Student -> Student): the student back with " 你好"
//	         appended to name and age + 1, every other field unchanged.
//	add      (sum/add, req{num1, num2} -> reply{res}): res = num1 + num2.
//	Count    (N -> stream N): n messages, N{n: 1} .. N{n: n}.
//	Total    (stream N -> N): the sum of the n's.
//	Echo     (stream N -> stream N): each message back as it comes.
//	Fail     (N -> N): status INVALID_ARGUMENT "n must be negative", with a
//	         google.rpc.BadRequest in the status details (field "n").
//	any other method whose request and reply are of one type (e.g. Stamp): the request
//	         back (each of them for a stream); any other: UNIMPLEMENTED.
//
// Every call of these services gets the response header "x-peer: go" and the trailer
// "x-trailer: done".
package main

import (
	"bytes"
	"compress/gzip"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"log"
	"net"
	"os"
	"strings"

	protov1 "github.com/golang/protobuf/proto"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

// codec marshals both kinds of message this server meets: the dynamic ones (protobuf's
// API v2) and grpc-go's own reflection messages (generated for golang/protobuf 1.3).
type codec struct{}

func (codec) Name() string { return "proto" }

func (codec) Marshal(v interface{}) ([]byte, error) {
	switch m := v.(type) {
	case proto.Message:
		return proto.Marshal(m)
	case protov1.Message:
		return protov1.Marshal(m)
	}
	return nil, fmt.Errorf("cannot marshal %T", v)
}

func (codec) Unmarshal(data []byte, v interface{}) error {
	switch m := v.(type) {
	case proto.Message:
		return proto.Unmarshal(data, m)
	case protov1.Message:
		return protov1.Unmarshal(data, m)
	}
	return fmt.Errorf("cannot unmarshal into %T", v)
}

// loadFiles reads the descriptor set and links its files.
func loadFiles(path string) (*descriptorpb.FileDescriptorSet, *protoregistry.Files, error) {
	b, err := ioutil.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	set := &descriptorpb.FileDescriptorSet{}
	if err := proto.Unmarshal(b, set); err != nil {
		return nil, nil, fmt.Errorf("%s: %v", path, err)
	}
	files, err := protodesc.NewFiles(set)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", path, err)
	}
	return set, files, nil
}

// registerForReflection hands each file to golang/protobuf's registry, where this
// grpc-go's reflection service looks files up by name (gzipped, as generated code
// registers them); files already there (well-known types linked in) stay as they are.
func registerForReflection(set *descriptorpb.FileDescriptorSet) error {
	for _, fd := range set.File {
		if protov1.FileDescriptor(fd.GetName()) != nil {
			continue
		}
		raw, err := proto.Marshal(fd)
		if err != nil {
			return err
		}
		var z bytes.Buffer
		w := gzip.NewWriter(&z)
		w.Write(raw)
		w.Close()
		protov1.RegisterFile(fd.GetName(), z.Bytes())
	}
	return nil
}

// call is one call's request stream and reply stream, of the method md.
type call struct {
	md protoreflect.MethodDescriptor
	ss grpc.ServerStream
}

func (c call) recv() (*dynamicpb.Message, error) {
	m := dynamicpb.NewMessage(c.md.Input())
	if err := c.ss.RecvMsg(m); err != nil {
		return nil, err
	}
	return m, nil
}

func (c call) field(m *dynamicpb.Message, name string) protoreflect.FieldDescriptor {
	return m.Descriptor().Fields().ByName(protoreflect.Name(name))
}

// intField reads a numeric field (0 when the message has none of that name).
func (c call) intField(m *dynamicpb.Message, name string) int64 {
	fd := c.field(m, name)
	if fd == nil {
		return 0
	}
	switch fd.Kind() {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return m.Get(fd).Int()
	}
	return 0
}

// setInt sets a numeric field of m, if m has one of that name.
func (c call) setInt(m *dynamicpb.Message, name string, v int64) {
	fd := c.field(m, name)
	if fd == nil {
		return
	}
	switch fd.Kind() {
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		m.Set(fd, protoreflect.ValueOfInt32(int32(v)))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		m.Set(fd, protoreflect.ValueOfInt64(v))
	}
}

func (c call) reply() *dynamicpb.Message { return dynamicpb.NewMessage(c.md.Output()) }

func sameType(md protoreflect.MethodDescriptor) bool {
	return md.Input().FullName() == md.Output().FullName()
}

// serve runs one call by its method's name (see the comment at the top).
func (c call) serve() error {
	c.ss.SetHeader(metadata.Pairs("x-peer", "go"))
	c.ss.SetTrailer(metadata.Pairs("x-trailer", "done"))
	switch string(c.md.Name()) {
	case "AddFunc":
		if !sameType(c.md) {
			break
		}
		in, err := c.recv()
		if err != nil {
			return err
		}
		if fd := c.field(in, "name"); fd != nil && fd.Kind() == protoreflect.StringKind {
			in.Set(fd, protoreflect.ValueOfString(in.Get(fd).String()+" 你好"))
		}
		c.setInt(in, "age", c.intField(in, "age")+1)
		return c.ss.SendMsg(in)
	case "add":
		in, err := c.recv()
		if err != nil {
			return err
		}
		out := c.reply()
		c.setInt(out, "res", c.intField(in, "num1")+c.intField(in, "num2"))
		return c.ss.SendMsg(out)
	case "Count":
		in, err := c.recv()
		if err != nil {
			return err
		}
		n := c.intField(in, "n")
		if n > 100000 {
			return status.Error(codes.InvalidArgument, "n is at most 100000")
		}
		for i := int64(1); i <= n; i++ {
			out := c.reply()
			c.setInt(out, "n", i)
			if err := c.ss.SendMsg(out); err != nil {
				return err
			}
		}
		return nil
	case "Total":
		var sum int64
		for {
			in, err := c.recv()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			sum += c.intField(in, "n")
		}
		out := c.reply()
		c.setInt(out, "n", sum)
		return c.ss.SendMsg(out)
	case "Fail":
		if _, err := c.recv(); err != nil {
			return err
		}
		st, err := status.New(codes.InvalidArgument, "n must be negative").WithDetails(&errdetails.BadRequest{
			FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "n", Description: "must be negative"}},
		})
		if err != nil {
			return status.Error(codes.Internal, err.Error())
		}
		return st.Err()
	}
	return c.echo()
}

// echo sends back each request, when request and reply are of one type.
func (c call) echo() error {
	if !sameType(c.md) {
		return status.Errorf(codes.Unimplemented, "anyserver has nothing to do for %s", c.md.FullName())
	}
	for {
		in, err := c.recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := c.ss.SendMsg(in); err != nil {
			return err
		}
		if !c.md.IsStreamingClient() {
			return nil
		}
	}
}

// serviceDesc describes sd for grpc-go: every method as a stream (a unary call is a
// stream of one request and one reply), its file named for reflection.
func serviceDesc(sd protoreflect.ServiceDescriptor) *grpc.ServiceDesc {
	desc := &grpc.ServiceDesc{
		ServiceName: string(sd.FullName()),
		HandlerType: (*interface{})(nil),
		Metadata:    sd.ParentFile().Path(),
	}
	ms := sd.Methods()
	for i := 0; i < ms.Len(); i++ {
		md := ms.Get(i)
		desc.Streams = append(desc.Streams, grpc.StreamDesc{
			StreamName:    string(md.Name()),
			ServerStreams: md.IsStreamingServer(),
			ClientStreams: md.IsStreamingClient(),
			Handler: func(_ interface{}, ss grpc.ServerStream) error {
				return call{md, ss}.serve()
			},
		})
	}
	return desc
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	descs := flag.String("descriptors", "", "descriptor set file (protoc --include_imports --descriptor_set_out)")
	refl := flag.Bool("reflection", false, "serve grpc-go's server reflection too")
	flag.Parse()
	if *descs == "" {
		fmt.Fprintln(os.Stderr, "usage: anyserver --listen ADDR --descriptors FILE [--reflection]")
		os.Exit(2)
	}
	set, files, err := loadFiles(*descs)
	if err != nil {
		log.Fatal(err)
	}
	encoding.RegisterCodec(codec{})
	s := grpc.NewServer()
	var names []string
	files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		for i := 0; i < fd.Services().Len(); i++ {
			sd := fd.Services().Get(i)
			s.RegisterService(serviceDesc(sd), struct{}{})
			names = append(names, string(sd.FullName()))
		}
		return true
	})
	if *refl {
		if err := registerForReflection(set); err != nil {
			log.Fatal(err)
		}
		reflection.Register(s)
	}
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(lis.Addr().String())
	log.Printf("anyserver: serving %s", strings.Join(names, ", "))
	log.Fatal(s.Serve(lis))
}

// Command reflectclient asks a server what it serves through grpc-go's own server
// reflection client stubs (grpc.reflection.v1alpha, from Debian's golang-google-grpc-dev)
// and prints what it found, one fact per line, for the tests to read:
//
//	service NAME                       for each listed service
//	file NAME package PKG (asked: Q)   for each FileDescriptorProto of an answer
//	  message NAME / enum NAME
//	  rpc SVC.METHOD(IN) returns (OUT) with "stream " before a streamed side
//	  import NAME
//	error CODE MESSAGE (asked: Q)      for an error_response
//
// Usage: reflectclient -addr HOST:PORT [-symbol NAME]... [-file NAME]...
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/golang/protobuf/proto"
	dpb "github.com/golang/protobuf/protoc-gen-go/descriptor"
	"google.golang.org/grpc"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

func printFile(b []byte, asked string) error {
	fd := &dpb.FileDescriptorProto{}
	if err := proto.Unmarshal(b, fd); err != nil {
		return fmt.Errorf("a file descriptor that does not parse: %v", err)
	}
	fmt.Printf("file %s package %s (asked: %s)\n", fd.GetName(), fd.GetPackage(), asked)
	for _, d := range fd.Dependency {
		fmt.Printf("  import %s\n", d)
	}
	for _, m := range fd.MessageType {
		fmt.Printf("  message %s\n", m.GetName())
	}
	for _, e := range fd.EnumType {
		fmt.Printf("  enum %s\n", e.GetName())
	}
	for _, s := range fd.Service {
		for _, m := range s.Method {
			in, out := m.GetInputType(), m.GetOutputType()
			if m.GetClientStreaming() {
				in = "stream " + in
			}
			if m.GetServerStreaming() {
				out = "stream " + out
			}
			fmt.Printf("  rpc %s.%s(%s) returns (%s)\n", s.GetName(), m.GetName(), in, out)
		}
	}
	return nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "server address")
	var symbols, files list
	flag.Var(&symbols, "symbol", "a symbol whose file to fetch (repeatable)")
	flag.Var(&files, "file", "a file to fetch by name (repeatable)")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, *addr, grpc.WithInsecure(), grpc.WithBlock())
	if err != nil {
		fmt.Fprintln(os.Stderr, "reflectclient: dial:", err)
		os.Exit(1)
	}
	defer conn.Close()
	stream, err := rpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "reflectclient:", err)
		os.Exit(1)
	}
	reqs := []*rpb.ServerReflectionRequest{{MessageRequest: &rpb.ServerReflectionRequest_ListServices{ListServices: "*"}}}
	for _, s := range symbols {
		reqs = append(reqs, &rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: s}})
	}
	for _, f := range files {
		reqs = append(reqs, &rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileByFilename{FileByFilename: f}})
	}
	failed := false
	for _, q := range reqs {
		asked := strings.TrimSpace(proto.CompactTextString(q))
		if err := stream.Send(q); err != nil {
			fmt.Fprintln(os.Stderr, "reflectclient: send:", err)
			os.Exit(1)
		}
		r, err := stream.Recv()
		if err != nil {
			fmt.Fprintln(os.Stderr, "reflectclient: recv:", err)
			os.Exit(1)
		}
		switch m := r.MessageResponse.(type) {
		case *rpb.ServerReflectionResponse_ListServicesResponse:
			for _, s := range m.ListServicesResponse.Service {
				fmt.Printf("service %s\n", s.GetName())
			}
		case *rpb.ServerReflectionResponse_FileDescriptorResponse:
			for _, b := range m.FileDescriptorResponse.FileDescriptorProto {
				if err := printFile(b, asked); err != nil {
					fmt.Println("error", err)
					failed = true
				}
			}
		case *rpb.ServerReflectionResponse_ErrorResponse:
			fmt.Printf("error %d %s (asked: %s)\n", m.ErrorResponse.GetErrorCode(), m.ErrorResponse.GetErrorMessage(), asked)
		default:
			fmt.Printf("error: an answer of no known kind (asked: %s)\n", asked)
			failed = true
		}
	}
	stream.CloseSend()
	if failed {
		os.Exit(1)
	}
}

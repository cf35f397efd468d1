// Command greeter is grpc-go's helloworld Greeter server (the one in gRPC's own
// examples), built offline from Debian's golang-google-grpc-dev. The tests call it with
// the workbench's client and the benchmark compares our grpc-server with it.
//
// Debian ships grpc-go without its examples, so the helloworld messages come from
// tests/go/gopath/src/workbench/pb, declared by hand.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"

	"google.golang.org/grpc"
	"google.golang.org/grpc/reflection"
	"workbench/pb"
)

type GreeterServer interface {
	SayHello(context.Context, *pb.HelloRequest) (*pb.HelloReply, error)
}

type server struct{}

func (server) SayHello(ctx context.Context, in *pb.HelloRequest) (*pb.HelloReply, error) {
	return &pb.HelloReply{Message: "Hello " + in.Name}, nil
}

func sayHelloHandler(srv interface{}, ctx context.Context, dec func(interface{}) error, interceptor grpc.UnaryServerInterceptor) (interface{}, error) {
	in := new(pb.HelloRequest)
	if err := dec(in); err != nil {
		return nil, err
	}
	return srv.(GreeterServer).SayHello(ctx, in)
}

var greeterDesc = grpc.ServiceDesc{
	ServiceName: "helloworld.Greeter",
	HandlerType: (*GreeterServer)(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "SayHello", Handler: sayHelloHandler}},
	Metadata:    "helloworld.proto",
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	s := grpc.NewServer()
	s.RegisterService(&greeterDesc, server{})
	reflection.Register(s)
	if err := s.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

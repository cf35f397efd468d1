// Command server serves student.proto's AddName service with grpc-go (lesson 16).
// AddFunc sends the Student back one year older, with " 你好" after the name and a
// score of 100 added. There is no reflection service: a client needs student.proto.
//
//	go build -o server . && ./server -addr 127.0.0.1:8080
package main

import (
	"context"
	"flag"
	"log"
	"net"

	"google.golang.org/grpc"
	"student/pb"
)

// Server implements pb.AddNameServer, the interface protoc generated for the service.
type Server struct{}

// AddFunc is the service's one method; the generated code calls it for each request.
func (this *Server) AddFunc(ctx context.Context, s *pb.Student) (*pb.Student, error) {
	s.Name += " 你好"
	s.Age++
	s.Score = append(s.Score, 100)
	return s, nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "the address to listen on")
	flag.Parse()
	// 1. create the gRPC server
	grpcServer := grpc.NewServer()
	// 2. register the service (generated: s.RegisterService(&_AddName_serviceDesc, srv))
	pb.RegisterAddNameServer(grpcServer, new(Server))
	// 3. listen
	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatalf("net listen err: %v", err)
	}
	defer listener.Close()
	log.Printf("listening on %s", listener.Addr())
	// 4. serve
	if err := grpcServer.Serve(listener); err != nil {
		log.Fatalf("serve err: %v", err)
	}
}

// Command server is the helloworld Greeter server; it registers itself in etcd under
// SERVICE/HOST:PORT on a lease, and deletes its key when stopped (SIGTERM, Ctrl-C).
//
//	server -listen 127.0.0.1:50052 -etcd 127.0.0.1:2379 -service /etcd3_naming/hello_service
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"etcdnaming"
	"go.etcd.io/etcd/clientv3"
	"google.golang.org/grpc"
	pb "helloworld"
)

// server implements helloworld.GreeterServer.
type server struct{}

func (s *server) SayHello(ctx context.Context, in *pb.HelloRequest) (*pb.HelloReply, error) {
	return &pb.HelloReply{Message: "Hello " + in.Name}, nil
}

func main() {
	listen := flag.String("listen", "127.0.0.1:50052", "HOST:PORT to listen on")
	endpoint := flag.String("etcd", "127.0.0.1:2379", "etcd's HOST:PORT")
	service := flag.String("service", "/etcd3_naming/hello_service", "the service")
	ttl := flag.Int64("ttl", 5, "the lease's time to live, in seconds")
	flag.Parse()

	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(1)
	}
	addr := lis.Addr().String()
	s := grpc.NewServer()
	pb.RegisterGreeterServer(s, &server{})
	go s.Serve(lis)

	cli, err := clientv3.New(clientv3.Config{
		Endpoints: []string{*endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		fmt.Println("etcd:", err)
		os.Exit(1)
	}
	defer cli.Close()
	reg := &etcdnaming.Registrar{Client: cli, TTL: *ttl}
	up := etcdnaming.Update{Op: etcdnaming.Add, Addr: addr,
		Metadata: map[string]string{"protocol": "grpc"}}
	if err := reg.Update(*service, up); err != nil {
		fmt.Println("register:", err)
		os.Exit(1)
	}
	fmt.Printf("serving on %s\nregistered %s/%s (TTL %d s)\n", addr, *service, addr, *ttl)

	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	fmt.Println("got", <-sig)
	if err := reg.Update(*service, etcdnaming.Update{Op: etcdnaming.Delete, Addr: addr}); err != nil {
		fmt.Println("unregister:", err)
	} else {
		fmt.Printf("deleted %s/%s\n", *service, addr)
	}
	s.GracefulStop()
}

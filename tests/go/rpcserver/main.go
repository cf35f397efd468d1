// Command rpcserver is Go's own net/rpc server for the sample services, over gob or JSON.
// The tests call it with the workbench client, and the benchmark compares our servers with it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/rpc"
	"net/rpc/jsonrpc"
	"os"
)

type Args struct{ A, B int }
type Quotient struct{ Quo, Rem int }
type HelloRequest struct{ Name string }
type HelloReply struct{ Message string }

type Arith int

func (t *Arith) Multiply(args *Args, reply *int) error {
	*reply = args.A * args.B
	return nil
}

func (t *Arith) Divide(args *Args, quo *Quotient) error {
	if args.B == 0 {
		return errors.New("divide by zero")
	}
	quo.Quo = args.A / args.B
	quo.Rem = args.A % args.B
	return nil
}

type Hello struct{}

func (h *Hello) HelloWorld(name string, resp *string) error {
	*resp = name + " 你好...."
	return nil
}

type Greeter struct{}

func (g *Greeter) SayHello(req *HelloRequest, reply *HelloReply) error {
	reply.Message = "Hello " + req.Name
	return nil
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	codec := flag.String("codec", "gob", "gob or json")
	flag.Parse()
	srv := rpc.NewServer()
	srv.Register(new(Arith))
	srv.RegisterName("hello", new(Hello))
	srv.Register(new(Greeter))
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	for {
		conn, err := ln.Accept()
		if err != nil {
			continue
		}
		if *codec == "json" {
			go srv.ServeCodec(jsonrpc.NewServerCodec(conn))
		} else {
			go srv.ServeConn(conn)
		}
	}
}

// Command pauseclient keeps one connection open and makes a call each time a line comes
// on standard input, so a capture can start after the connection (and its first calls)
// began: Go's net/rpc with gob or JSON (net/rpc/jsonrpc), or grpc-go. Each call prints
// "N METHOD RESULT" (or "N METHOD error: TEXT"); it exits at the end of its input.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net/rpc"
	"net/rpc/jsonrpc"
	"os"
	"time"

	"google.golang.org/grpc"
	"workbench/pb"
)

type Args struct{ A, B int }

func main() {
	addr := flag.String("addr", "127.0.0.1:1234", "server address")
	proto := flag.String("proto", "gob", "gob, json or grpc")
	flag.Parse()
	call := dial(*addr, *proto)
	in := bufio.NewScanner(os.Stdin)
	for n := 1; in.Scan(); n++ {
		fmt.Printf("%d %s\n", n, call(n))
	}
}

// dial connects and returns a function making call n on the one connection.
func dial(addr, proto string) func(n int) string {
	if proto == "grpc" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := grpc.DialContext(ctx, addr, grpc.WithInsecure(), grpc.WithBlock())
		if err != nil {
			fmt.Println("dial:", err)
			os.Exit(1)
		}
		return func(n int) string {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var r pb.HelloReply
			err := conn.Invoke(ctx, "/helloworld.Greeter/SayHello", &pb.HelloRequest{Name: fmt.Sprintf("caller %d", n)}, &r)
			if err != nil {
				return "SayHello error: " + err.Error()
			}
			return "SayHello " + r.Message
		}
	}
	var c *rpc.Client
	var err error
	if proto == "json" {
		c, err = jsonrpc.Dial("tcp", addr)
	} else {
		c, err = rpc.Dial("tcp", addr)
	}
	if err != nil {
		fmt.Println("dial:", err)
		os.Exit(1)
	}
	return func(n int) string {
		var prod int
		if err := c.Call("Arith.Multiply", Args{n, 10}, &prod); err != nil {
			return "Arith.Multiply error: " + err.Error()
		}
		return fmt.Sprintf("Arith.Multiply %d", prod)
	}
}

// Command server is the net/rpc server of the microservices tutorial (section 2.3):
// it registers a World object under the name "world", listens, accepts ONE
// connection and serves it with rpc.ServeConn (gob), or with jsonrpc.ServeConn when
// started with -json (section 2.4.2). -loop accepts every connection instead.
//
//	go run ./server -addr 127.0.0.1:8080
//	go run ./server -addr 127.0.0.1:8080 -json
package main

import (
	"flag"
	"fmt"
	"net"
	"net/rpc"
	"net/rpc/jsonrpc"
)

type World struct{}

// HelloWorld meets net/rpc's four conditions: exported, two arguments of exported or
// built-in types, the second a pointer (the reply), and one result of type error.
func (this *World) HelloWorld(name string, resp *string) error {
	*resp = name + " 你好...."
	return nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	useJSON := flag.Bool("json", false, "serve JSON-RPC (jsonrpc.ServeConn) instead of gob")
	loop := flag.Bool("loop", false, "accept every connection, not just the first")
	flag.Parse()

	// 1. Register the RPC object: its methods become "world.MethodName".
	err := rpc.RegisterName("world", new(World))
	if err != nil {
		fmt.Println("rpc registername err:", err)
		return
	}

	// 2. Listen.
	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Println("net listen err:", err)
		return
	}
	defer listener.Close()
	fmt.Println("listening on", listener.Addr())

	if *loop {
		serveAll(listener, *useJSON)
		return
	}

	// 3. Accept a connection: one, as the tutorial does.
	conn, err := listener.Accept()
	if err != nil {
		fmt.Println("listen accept err:", err)
		return
	}
	fmt.Println("connection from", conn.RemoteAddr())

	// 4. Serve RPC on it until the client hangs up.
	if *useJSON {
		jsonrpc.ServeConn(conn)
	} else {
		rpc.ServeConn(conn)
	}
	fmt.Println("ServeConn returned: main ends, and so does the listener")
}

// serveAll is the usual shape of a server: Accept in a loop, each connection served
// in its own goroutine, so one client never keeps the others waiting.
func serveAll(listener net.Listener, useJSON bool) {
	for {
		conn, err := listener.Accept()
		if err != nil {
			fmt.Println("listen accept err:", err)
			return
		}
		fmt.Println("connection from", conn.RemoteAddr())
		if useJSON {
			go jsonrpc.ServeConn(conn)
		} else {
			go rpc.ServeConn(conn)
		}
	}
}

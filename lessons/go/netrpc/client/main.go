// Command client is the net/rpc client of the microservices tutorial (section 2.3):
// it dials the server with rpc.Dial (gob), or with jsonrpc.Dial when started with
// -json (section 2.4.1), and calls world.HelloWorld with "李白". With -n and -every it
// calls again on the same connection, so a capture can start while it is open.
//
//	go run ./client -addr 127.0.0.1:8080
//	go run ./client -addr 127.0.0.1:8080 -json
//	go run ./client -addr 127.0.0.1:8080 -n 20 -every 500ms
package main

import (
	"flag"
	"fmt"
	"net/rpc"
	"net/rpc/jsonrpc"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "the server's address")
	useJSON := flag.Bool("json", false, "speak JSON-RPC (jsonrpc.Dial) instead of gob")
	calls := flag.Int("n", 1, "how many calls to make on the one connection")
	every := flag.Duration("every", 0, "the pause between two calls")
	flag.Parse()

	// 1. Connect to the server with RPC.
	dial := rpc.Dial
	if *useJSON {
		dial = jsonrpc.Dial
	}
	conn, err := dial("tcp", *addr)
	if err != nil {
		fmt.Println("rpc dial err:", err)
		return
	}
	defer conn.Close()

	// 2. Call the remote function: "service.Method", the argument (HelloWorld's name),
	// and the address of a variable for the reply (HelloWorld's resp).
	for i := 0; i < *calls; i++ {
		if i > 0 {
			time.Sleep(*every)
		}
		var ans string
		err = conn.Call("world.HelloWorld", "李白", &ans)
		if err != nil {
			fmt.Println("conn call err:", err)
			return
		}
		fmt.Println(ans)
	}
}

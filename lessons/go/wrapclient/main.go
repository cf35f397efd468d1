// Command wrapclient shows which mistakes show up only at run time with plain net/rpc:
// client.Call with a misspelt method name or a wrong argument type, and a server type
// whose method has the wrong signature. The typed wrapper in arith.go makes the same
// mistakes compile errors (see mistakes.go).
//
//	go run . -addr 127.0.0.1:8081
package main

import (
	"flag"
	"fmt"
	"net"
	"net/rpc"
	"os"
)

// BadArith's Multiply takes its reply by value, so net/rpc could never fill it in.
type BadArith struct{}

func (BadArith) Multiply(args Args, reply int) error     { return nil }
func (BadArith) Divide(args Args, reply *Quotient) error { return nil }

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "the gob (net/rpc) server")
	flag.Parse()

	// 1. Plain client.Call: the method is a string and the argument an interface{},
	// so the compiler cannot tell that these two calls are wrong.
	client, err := rpc.Dial("tcp", *addr)
	if err != nil {
		fmt.Println("dial:", err)
		os.Exit(1)
	}
	defer client.Close()

	var product int
	err = client.Call("Arith.Multiplyy", Args{7, 8}, &product) // typo in the name
	fmt.Println("client.Call(\"Arith.Multiplyy\", ...):", err)

	err = client.Call("Arith.Multiply", "7*8", &product) // a string, not Args
	fmt.Println("client.Call(\"Arith.Multiply\", \"7*8\", ...):", err)

	// 2. The typed wrapper: the name is right by construction, the types are checked.
	arith, err := DialArith(*addr)
	if err != nil {
		fmt.Println("dial:", err)
		os.Exit(1)
	}
	defer arith.Close()
	p, err := arith.Multiply(7, 8)
	fmt.Println("arith.Multiply(7, 8):", p, err)
	q, err := arith.Divide(7, 2)
	fmt.Printf("arith.Divide(7, 2): %+v %v\n", q, err)

	// 3. The server side without the wrapper: rpc.Register accepts BadArith without
	// complaint (Divide is fine) and quietly leaves Multiply out. Serve it over an
	// in-memory connection and call it: only now does the mistake show.
	server := rpc.NewServer()
	fmt.Println("server.RegisterName(\"Arith\", BadArith{}):", server.RegisterName("Arith", BadArith{}))
	serverEnd, clientEnd := net.Pipe()
	go server.ServeConn(serverEnd)
	local := rpc.NewClient(clientEnd)
	defer local.Close()
	err = local.Call("Arith.Multiply", Args{7, 8}, &product)
	fmt.Println("calling BadArith's Multiply:", err)
}

// Command rpcclient checks a server with Go's real net/rpc client (gob) or net/rpc/jsonrpc:
// every sample method, errors, edge-case integers, and many concurrent calls on one connection.
// It prints one line per check and exits non-zero if any check fails.
package main

import (
	"flag"
	"fmt"
	"math"
	"net/rpc"
	"net/rpc/jsonrpc"
	"os"
	"strings"
	"sync"
)

type Args struct{ A, B int }
type Quotient struct{ Quo, Rem int }
type HelloRequest struct{ Name string }
type HelloReply struct{ Message string }

var failed int

func check(name string, ok bool, format string, a ...interface{}) {
	if ok {
		fmt.Printf("ok   %s\n", name)
		return
	}
	failed++
	fmt.Printf("FAIL %s: %s\n", name, fmt.Sprintf(format, a...))
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "server address")
	codec := flag.String("codec", "gob", "gob or json")
	oversize := flag.Int("oversize", 0, "only send one string argument this long, expect the call to fail, then check a fresh connection works")
	flag.Parse()
	if *oversize > 0 {
		checkOversize(*addr, *codec, *oversize)
		return
	}
	var c *rpc.Client
	var err error
	if *codec == "json" {
		c, err = jsonrpc.Dial("tcp", *addr)
	} else {
		c, err = rpc.Dial("tcp", *addr)
	}
	if err != nil {
		fmt.Println("FAIL dial:", err)
		os.Exit(1)
	}
	defer c.Close()

	var prod int
	err = c.Call("Arith.Multiply", Args{7, 8}, &prod)
	check("Arith.Multiply 7*8", err == nil && prod == 56, "got %d, %v", prod, err)

	var q Quotient
	err = c.Call("Arith.Divide", Args{17, 5}, &q)
	check("Arith.Divide 17/5", err == nil && q == Quotient{3, 2}, "got %+v, %v", q, err)

	q = Quotient{}
	err = c.Call("Arith.Divide", Args{-17, 5}, &q)
	check("Arith.Divide -17/5", err == nil && q == Quotient{-3, -2}, "got %+v, %v", q, err)

	err = c.Call("Arith.Divide", Args{1, 0}, &q)
	check("Arith.Divide by zero is an error", err != nil && err.Error() == "divide by zero", "got %v", err)

	// The connection must still work after an error reply.
	prod = 0
	err = c.Call("Arith.Multiply", Args{-3, 1 << 40}, &prod)
	check("call after an error reply", err == nil && prod == -3*(1<<40), "got %d, %v", prod, err)

	prod = 0
	err = c.Call("Arith.Multiply", Args{math.MaxInt64, 1}, &prod)
	check("largest int survives", err == nil && prod == math.MaxInt64, "got %d, %v", prod, err)

	prod = 0
	err = c.Call("Arith.Multiply", Args{math.MinInt64, 1}, &prod)
	check("smallest int survives", err == nil && prod == math.MinInt64, "got %d, %v", prod, err)

	prod = 0
	err = c.Call("Arith.Multiply", Args{0, 5}, &prod)
	check("zero field (omitted by gob)", err == nil && prod == 0, "got %d, %v", prod, err)

	var s string
	err = c.Call("hello.HelloWorld", "李白", &s)
	check("hello.HelloWorld", err == nil && s == "李白 你好....", "got %q, %v", s, err)

	var hr HelloReply
	err = c.Call("Greeter.SayHello", HelloRequest{"world"}, &hr)
	check("Greeter.SayHello", err == nil && hr.Message == "Hello world", "got %+v, %v", hr, err)

	err = c.Call("Nope.Method", Args{1, 2}, &prod)
	check("unknown service is an error", err != nil && err.Error() == "rpc: can't find service Nope.Method", "got %v", err)
	err = c.Call("Arith.Nope", Args{1, 2}, &prod)
	check("unknown method is an error", err != nil && err.Error() == "rpc: can't find method Arith.Nope", "got %v", err)

	// An argument of the wrong type is refused, and the connection carries on.
	err = c.Call("Arith.Multiply", "seven", &prod)
	check("wrong argument type is an error", err != nil, "got no error")
	if *codec == "gob" {
		err = c.Call("Arith.Multiply", complex(1, 2), &prod)
		check("a complex argument is an error", err != nil, "got no error")
		type Point struct{ X, Y int }
		err = c.Call("Arith.Multiply", Point{3, 4}, &prod)
		check("a struct with no matching field is an error", err != nil && strings.Contains(err.Error(), "no fields matched"), "got %v", err)
	}
	prod = 0
	err = c.Call("Arith.Multiply", Args{6, 7}, &prod)
	check("call after bad arguments", err == nil && prod == 42, "got %d, %v", prod, err)

	// Many calls in flight at once on the one connection, each matched to its reply.
	const n = 500
	var wg sync.WaitGroup
	var mu sync.Mutex
	bad := 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var r int
			var qq Quotient
			if i%3 == 0 {
				if err := c.Call("Arith.Divide", Args{i * 7, 7}, &qq); err != nil || qq.Quo != i {
					mu.Lock()
					bad++
					mu.Unlock()
				}
				return
			}
			if err := c.Call("Arith.Multiply", Args{i, -i}, &r); err != nil || r != -i*i {
				mu.Lock()
				bad++
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	check(fmt.Sprintf("%d concurrent calls on one connection", n), bad == 0, "%d wrong", bad)

	// Asynchronous calls pipelined with Go(), replies matched by sequence number.
	calls := make([]*rpc.Call, 100)
	for i := range calls {
		var r int
		calls[i] = c.Go("Arith.Multiply", Args{i, 2}, &r, nil)
	}
	pipelined := true
	for i, call := range calls {
		<-call.Done
		if call.Error != nil || *(call.Reply.(*int)) != 2*i {
			pipelined = false
		}
	}
	check("100 pipelined calls", pipelined, "a reply did not match its call")

	if failed > 0 {
		fmt.Printf("%d check(s) failed\n", failed)
		os.Exit(1)
	}
	fmt.Println("all checks passed")
}

func dial(addr, codec string) (*rpc.Client, error) {
	if codec == "json" {
		return jsonrpc.Dial("tcp", addr)
	}
	return rpc.Dial("tcp", addr)
}

func checkOversize(addr, codec string, n int) {
	c, err := dial(addr, codec)
	if err != nil {
		fmt.Println("FAIL dial:", err)
		os.Exit(1)
	}
	big := make([]byte, n)
	for i := range big {
		big[i] = 'x'
	}
	var s string
	err = c.Call("hello.HelloWorld", string(big), &s)
	check(fmt.Sprintf("a %d-byte argument is refused", n), err != nil, "the call succeeded")
	c.Close()
	c, err = dial(addr, codec)
	if err != nil {
		fmt.Println("FAIL dial again:", err)
		os.Exit(1)
	}
	var prod int
	err = c.Call("Arith.Multiply", Args{6, 7}, &prod)
	check("a new connection still works", err == nil && prod == 42, "got %d, %v", prod, err)
	if failed > 0 {
		os.Exit(1)
	}
	fmt.Println("all checks passed")
}

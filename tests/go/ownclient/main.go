// Command ownclient is Go's own net/rpc client for ownserver's methods: it reads the
// argument as JSON into the method's Go type, calls, and prints the reply with Go's
// encoding/json, so that the tests can compare the workbench's reply text with Go's.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/rpc"
	"os"
)

type People struct{ Weight int }

type Student struct {
	Name    string
	Age     int32
	P       People
	Score   []int
	Tags    map[string]int
	Teacher *People
	Ratio   float64
	OK      bool
	Raw     []byte
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "server address")
	method := flag.String("method", "School.Enroll", "Service.Method")
	arg := flag.String("arg", "{}", "the argument as JSON")
	flag.Parse()
	var a, r interface{}
	switch *method {
	case "School.Enroll", "School.Fail":
		a, r = new(Student), new(Student)
	case "School.Count":
		a, r = new(Student), new(int)
	case "School.Names":
		a, r = new(int), new([]string)
	case "world.HelloWorld":
		a, r = new(string), new(string)
	default:
		fmt.Fprintln(os.Stderr, "unknown method", *method)
		os.Exit(2)
	}
	if err := json.Unmarshal([]byte(*arg), a); err != nil {
		fmt.Fprintln(os.Stderr, "argument:", err)
		os.Exit(2)
	}
	c, err := rpc.Dial("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	defer c.Close()
	if err := c.Call(*method, a, r); err != nil {
		fmt.Fprintln(os.Stderr, "error from server:", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
}

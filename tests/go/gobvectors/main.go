// Command gobvectors prints the bytes real Go encoding/gob produces for the values
// used by tests/unit/test_gob.c and tests/unit/test_netrpc.c, so the vectors in those
// tests come from Go itself rather than from our own encoder.
//
// Run: cd tests/go/gobvectors && GO111MODULE=off go run .
//
// gob type ids are handed out per process, in the order types are first seen, so each
// vector is produced by a fresh child process (this program re-run with the vector's
// name). That matches what one connection of a freshly started Go client or server sends.
//
// Output: for each vector, a comment line with the Go expression, then
// "name: hex" for every Encode call in order.
package main

import (
	"bytes"
	"encoding/gob"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"os/exec"
	"time"
)

// The net/rpc headers, as declared in net/rpc (unexported fields are never sent).
type Request struct {
	ServiceMethod string
	Seq           uint64
}

type Response struct {
	ServiceMethod string
	Seq           uint64
	Error         string
}

type Args struct{ A, B int }

type Quotient struct{ Quo, Rem int }

type Inner struct {
	X int
	Y string
}

type Mixed struct {
	L   []string
	M   map[string]int
	A   [3]int
	B   bool
	F   float64
	G   float64
	U   uint64
	Raw []byte
	N   Inner
}

type Node struct {
	V    int
	Next *Node
}

type WithComplex struct {
	A int
	C complex128
}

type WithIface struct {
	A int
	I interface{}
}

type WithTime struct {
	T time.Time
}

type vector struct {
	name string
	expr string        // the Go expression, for the C comment
	vals []interface{} // encoded in order on one Encoder
}

var vectors = []vector{
	{"multiply", `Request{"Arith.Multiply", 0}, Args{7, 8}`,
		[]interface{}{Request{"Arith.Multiply", 0}, Args{7, 8}}},
	{"multiply2", `Request{"Arith.Multiply", 0}, Args{7, 8}, then Request{"Arith.Multiply", 1}, Args{3, 4} on the same Encoder`,
		[]interface{}{Request{"Arith.Multiply", 0}, Args{7, 8}, Request{"Arith.Multiply", 1}, Args{3, 4}}},
	{"args_big", `Args{-5, 1 << 62}`, []interface{}{Args{-5, 1 << 62}}},
	{"int_neg", `int(-300)`, []interface{}{int(-300)}},
	{"int_min", `int64(math.MinInt64)`, []interface{}{int64(math.MinInt64)}},
	{"int_zero", `int(0)`, []interface{}{int(0)}},
	{"string_libai", `"李白"`, []interface{}{"李白"}},
	{"quotient", `Quotient{2, 1}`, []interface{}{Quotient{2, 1}}},
	{"mixed", `Mixed{L: []string{"a", "bc"}, M: map[string]int{"k": 3}, A: [3]int{1, 0, -1}, B: true, F: 1.5, G: 0.1, U: math.MaxUint64, Raw: []byte{0, 1, 255}, N: Inner{X: 9, Y: "in"}}`,
		[]interface{}{Mixed{L: []string{"a", "bc"}, M: map[string]int{"k": 3}, A: [3]int{1, 0, -1}, B: true,
			F: 1.5, G: 0.1, U: math.MaxUint64, Raw: []byte{0, 1, 255}, N: Inner{X: 9, Y: "in"}}}},
	{"mixed_zero", `Mixed{}`, []interface{}{Mixed{}}},
	{"strings", `[]string{"x", "yz"}`, []interface{}{[]string{"x", "yz"}}},
	{"error_response", `Response{"Arith.Divide", 1, "divide by zero"}, struct{}{}`,
		[]interface{}{Response{"Arith.Divide", 1, "divide by zero"}, struct{}{}}},
	{"ok_response", `Response{"Arith.Multiply", 0, ""}, 56`,
		[]interface{}{Response{"Arith.Multiply", 0, ""}, 56}},
	{"hello", `Request{"hello.HelloWorld", 0}, "李白"`,
		[]interface{}{Request{"hello.HelloWorld", 0}, "李白"}},
	{"node", `Node{1, &Node{2, nil}}`, []interface{}{Node{1, &Node{2, nil}}}},
	{"complex", `WithComplex{1, 2 + 3i}`, []interface{}{WithComplex{1, 2 + 3i}}},
	{"iface", `WithIface{1, int(5)}`, []interface{}{WithIface{1, int(5)}}},
	{"time", `WithTime{time.Unix(0, 0).UTC()}`, []interface{}{WithTime{time.Unix(0, 0).UTC()}}},
}

func emit(v vector) {
	var b bytes.Buffer
	enc := gob.NewEncoder(&b)
	fmt.Printf("# %s: %s\n", v.name, v.expr)
	for i, x := range v.vals {
		b.Reset()
		if err := enc.Encode(x); err != nil {
			fmt.Fprintln(os.Stderr, v.name, err)
			os.Exit(1)
		}
		fmt.Printf("%s.%d: %s\n", v.name, i, hex.EncodeToString(b.Bytes()))
	}
}

func main() {
	if len(os.Args) == 2 {
		for _, v := range vectors {
			if v.name == os.Args[1] {
				emit(v)
				return
			}
		}
		fmt.Fprintln(os.Stderr, "no vector", os.Args[1])
		os.Exit(2)
	}
	for _, v := range vectors {
		cmd := exec.Command(os.Args[0], v.name)
		cmd.Stdout = os.Stdout
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, v.name, err)
			os.Exit(1)
		}
	}
}

// The typed wrapper around net/rpc, in the spirit of the tutorial's "RPC的封装":
// the service name, the method names and the argument types are written down once,
// here, so the compiler checks every call site instead of the server.
package main

import "net/rpc"

// Args is the argument of Arith.Multiply and Arith.Divide, as the server declares it.
type Args struct{ A, B int }

// Quotient is what Arith.Divide fills in.
type Quotient struct{ Quo, Rem int }

// ArithService is what a server must implement to be registered with RegisterArith:
// the compiler rejects any type whose methods do not have exactly these signatures.
type ArithService interface {
	Multiply(args Args, reply *int) error
	Divide(args Args, reply *Quotient) error
}

// RegisterArith registers s under the name "Arith"; only an ArithService fits.
func RegisterArith(s ArithService) error {
	return rpc.RegisterName("Arith", s)
}

// ArithClient calls a remote Arith like a local object.
type ArithClient struct {
	client *rpc.Client
}

// DialArith connects to a net/rpc (gob) server. Keep the connection open: every
// call goes over it, so close it (Close) only when you are done.
func DialArith(addr string) (*ArithClient, error) {
	c, err := rpc.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	return &ArithClient{client: c}, nil
}

// Multiply returns a*b, computed by the server. "Arith.Multiply" is spelled here only.
func (c *ArithClient) Multiply(a, b int) (int, error) {
	var product int
	err := c.client.Call("Arith.Multiply", Args{a, b}, &product)
	return product, err
}

// Divide returns a/b and a%b, computed by the server.
func (c *ArithClient) Divide(a, b int) (Quotient, error) {
	var q Quotient
	err := c.client.Call("Arith.Divide", Args{a, b}, &q)
	return q, err
}

// Close closes the connection.
func (c *ArithClient) Close() error { return c.client.Close() }

// shop.go -- the shop's two features, users and orders, written once. The same code
// runs in one process (the monolith: Orders calls Users as a plain function) or as two
// services (Orders calls the user service over net/rpc).

package main

import (
	"errors"
	"fmt"
	"net/rpc"
	"strings"
	"sync"
)

// UserService is what Orders needs from the users feature: checking a login.
type UserService interface {
	Login(name string, ok *bool) error
}

// Users knows the shop's customers.
type Users struct {
	known map[string]bool
}

func NewUsers() *Users {
	return &Users{known: map[string]bool{"li": true, "du": true}}
}

// Login checks a name. (go:noinline keeps it a real call when the benchmark calls it
// in a loop; otherwise the compiler could copy its body into the loop.)
//
//go:noinline
func (u *Users) Login(name string, ok *bool) error {
	if !u.known[name] {
		return fmt.Errorf("no user %q", name)
	}
	*ok = true
	return nil
}

type Order struct {
	ID    int
	User  string
	Item  string
	Price int
}

type PlaceArgs struct {
	User  string
	Item  string
	Price int
}

// Orders keeps the orders; it asks users whether a customer may order.
type Orders struct {
	users UserService
	mu    sync.Mutex
	all   []Order
}

func (o *Orders) Place(args PlaceArgs, id *int) error {
	var ok bool
	if err := o.users.Login(args.User, &ok); err != nil {
		return errors.New("user service: " + reason(err))
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.all = append(o.all, Order{len(o.all) + 1, args.User, args.Item, args.Price})
	*id = len(o.all)
	return nil
}

func (o *Orders) List(user string, out *[]Order) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, order := range o.all {
		if order.User == user {
			*out = append(*out, order)
		}
	}
	return nil
}

// Report gives the average price of a user's orders. It has a bug: a user without
// orders makes it divide by zero, and the panic ends the whole process.
func (o *Orders) Report(user string, average *int) error {
	var orders []Order
	o.List(user, &orders)
	total := 0
	for _, order := range orders {
		total += order.Price
	}
	*average = total / len(orders)
	return nil
}

// remoteUsers is the user service seen from the order service: every Login is an RPC.
type remoteUsers struct {
	addr string
}

func (r remoteUsers) Login(name string, ok *bool) error {
	client, err := rpc.Dial("tcp", r.addr)
	if err != nil {
		return err
	}
	defer client.Close()
	return client.Call("User.Login", name, ok)
}

// reason shortens an error to its last part: "dial tcp 127.0.0.1:8080: connect:
// connection refused" becomes "connection refused".
func reason(err error) string {
	if _, remote := err.(rpc.ServerError); remote {
		return err.Error()
	}
	text := err.Error()
	if i := strings.LastIndex(text, ": "); i >= 0 {
		return text[i+2:]
	}
	return text
}

// Command shop runs one small shop in two shapes: a monolith (users and orders in one
// process, calling each other as functions) or two services (a user service and an
// order service, calling each other over net/rpc). The same client uses either.
//
//	shop monolith -addr 127.0.0.1:9000
//	shop users -addr 127.0.0.1:9001
//	shop orders -addr 127.0.0.1:9002 -users 127.0.0.1:9001
//	shop client -users 127.0.0.1:9001 -orders 127.0.0.1:9002 [-user du] [report]
//	shop bench -users 127.0.0.1:9001
package main

import (
	"flag"
	"fmt"
	"net"
	"net/rpc"
	"os"
	"time"
)

const usage = `usage: shop monolith -addr ADDR
       shop users -addr ADDR
       shop orders -addr ADDR -users ADDR
       shop client -users ADDR -orders ADDR [-user NAME] [FEATURE...]
         (features: login, place, list, report; without any: login place list)
       shop bench -users ADDR [-local N] [-remote N]
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	flags := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	addr := flags.String("addr", "127.0.0.1:9000", "address to listen on")
	usersAddr := flags.String("users", "127.0.0.1:9001", "the user service (or the monolith)")
	ordersAddr := flags.String("orders", "127.0.0.1:9002", "the order service (or the monolith)")
	user := flags.String("user", "li", "the customer")
	localN := flags.Int("local", 1000000, "local calls to time")
	remoteN := flags.Int("remote", 2000, "RPCs to time")
	flags.Parse(os.Args[2:])

	switch os.Args[1] {
	case "monolith":
		users := NewUsers()
		// Orders calls users.Login directly: a function call inside this process.
		orders := &Orders{users: users}
		serve(*addr, "monolith (users and orders)", map[string]interface{}{"User": users, "Order": orders})
	case "users":
		serve(*addr, "user service", map[string]interface{}{"User": NewUsers()})
	case "orders":
		// Orders calls the user service's Login over the network.
		orders := &Orders{users: remoteUsers{*usersAddr}}
		serve(*addr, "order service", map[string]interface{}{"Order": orders})
	case "client":
		features := flags.Args()
		if len(features) == 0 {
			features = []string{"login", "place", "list"}
		}
		for _, feature := range features {
			fmt.Println(use(feature, *user, *usersAddr, *ordersAddr))
		}
	case "bench":
		bench(*usersAddr, *localN, *remoteN)
	default:
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
}

// serve registers the services and serves every connection in its own goroutine.
func serve(addr, what string, services map[string]interface{}) {
	for name, service := range services {
		if err := rpc.RegisterName(name, service); err != nil {
			fmt.Println("register:", err)
			os.Exit(1)
		}
	}
	listener, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(1)
	}
	fmt.Printf("%s listening on %s, pid %d\n", what, addr, os.Getpid())
	for {
		conn, err := listener.Accept()
		if err != nil {
			fmt.Println("accept:", err)
			os.Exit(1)
		}
		go rpc.ServeConn(conn)
	}
}

// use runs one feature of the shop for user and says how it went, in one line.
func use(feature, user, usersAddr, ordersAddr string) string {
	var result string
	var err error
	switch feature {
	case "login":
		var ok bool
		err = call(usersAddr, "User.Login", user, &ok)
		result = "ok"
	case "place":
		var id int
		err = call(ordersAddr, "Order.Place", PlaceArgs{user, "tea", 12}, &id)
		result = fmt.Sprintf("ok, order #%d", id)
	case "list":
		var orders []Order
		err = call(ordersAddr, "Order.List", user, &orders)
		result = fmt.Sprintf("ok, %d order(s)", len(orders))
	case "report":
		var average int
		err = call(ordersAddr, "Order.Report", user, &average)
		result = fmt.Sprintf("ok, average price %d", average)
	default:
		return feature + ": no such feature (login, place, list, report)"
	}
	if err != nil {
		result = "FAILED: " + reason(err)
	}
	return fmt.Sprintf("%-7s %-3s  %s", feature, user, result)
}

// call makes one RPC on a connection of its own.
func call(addr, method string, args, reply interface{}) error {
	client, err := rpc.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer client.Close()
	return client.Call(method, args, reply)
}

// bench times Login as a function call in this process and as an RPC to the user
// service on one connection: at most n calls each, and at most a few seconds.
func bench(usersAddr string, localN, remoteN int) {
	users := NewUsers()
	var ok bool
	n, start := 0, time.Now()
	for n < localN && (n%4096 != 0 || time.Since(start) < 3*time.Second) {
		users.Login("li", &ok)
		n++
	}
	local := float64(time.Since(start).Nanoseconds()) / float64(n)
	fmt.Printf("function call   %7d calls  %8.1f ns per call\n", n, local)

	client, err := rpc.Dial("tcp", usersAddr)
	if err != nil {
		fmt.Println("user service:", reason(err))
		os.Exit(1)
	}
	defer client.Close()
	n, start = 0, time.Now()
	for n < remoteN && time.Since(start) < 5*time.Second {
		if err := client.Call("User.Login", "li", &ok); err != nil {
			fmt.Println("user service:", reason(err))
			os.Exit(1)
		}
		n++
	}
	remote := float64(time.Since(start).Nanoseconds()) / float64(n)
	fmt.Printf("RPC, loopback   %7d calls  %8.1f µs per call\n", n, remote/1000)
	fmt.Printf("one RPC costs as much time as about %.0f function calls\n", remote/local)
}

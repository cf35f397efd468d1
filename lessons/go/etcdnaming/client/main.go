// Command client calls helloworld.Greeter/SayHello on a service it finds in etcd,
// balancing round robin, and prints which address answered each call.
//
//	client -etcd 127.0.0.1:2379 -service /etcd3_naming/hello_service -n 10
package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"time"

	"etcdnaming"
	"go.etcd.io/etcd/clientv3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/peer"
	pb "helloworld"
)

func main() {
	endpoint := flag.String("etcd", "127.0.0.1:2379", "etcd's HOST:PORT")
	service := flag.String("service", "/etcd3_naming/hello_service", "the service")
	n := flag.Int("n", 10, "how many calls")
	every := flag.Duration("every", 200*time.Millisecond, "time between calls")
	name := flag.String("name", "world", "the name to greet")
	flag.Parse()

	cli, err := clientv3.New(clientv3.Config{
		Endpoints: []string{*endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		fmt.Println("etcd:", err)
		os.Exit(1)
	}
	defer cli.Close()

	start := time.Now()
	logf := func(format string, args ...interface{}) {
		fmt.Printf("%5.2fs "+format+"\n",
			append([]interface{}{time.Since(start).Seconds()}, args...)...)
	}
	target := "etcd:///" + *service
	logf("dial %s", target)
	// grpc-go 1.33 sends the name as the :authority header, and a '/' has no place
	// there: servers that check (nghttp2's do) refuse the call. Newer grpc-go
	// escapes it, as url.PathEscape does: %2Fetcd3_naming%2Fhello_service.
	conn, err := grpc.Dial(target, grpc.WithInsecure(),
		grpc.WithAuthority(url.PathEscape(*service)),
		grpc.WithResolvers(&etcdnaming.Builder{Client: cli, Logf: logf}),
		grpc.WithDefaultServiceConfig(`{"loadBalancingPolicy":"round_robin"}`))
	if err != nil {
		fmt.Println("dial:", err)
		os.Exit(1)
	}
	defer conn.Close()

	c := pb.NewGreeterClient(conn)
	failed := 0
	for i := 1; i <= *n; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		var p peer.Peer
		r, err := c.SayHello(ctx, &pb.HelloRequest{Name: *name}, grpc.Peer(&p))
		cancel()
		if err != nil {
			failed++
			logf("call %d: %v", i, err)
		} else {
			logf("call %d: %s says %q", i, p.Addr, r.GetMessage())
		}
		time.Sleep(*every)
	}
	if failed > 0 {
		os.Exit(1)
	}
}

// Command hubclient asks the service hub (hub-server) with grpc-go as tutorial 002's
// gateway does: WatchService with a prefix, then GetServices for a name, then it dials the
// address the hub gave and asks that instance's gRPC health. discovery.pb.go is generated
// from proto/discovery.proto by protoc-gen-go (plugins=grpc) before the build.
//
// Output, one line each: "watch NAME,NAME", then "get ADDRESS ALL,ADDRESSES" for each of
// -n calls, then "health STATUS"; a call that fails prints "error METHOD CODE: MESSAGE"
// and the program exits 1.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	discoveryPb "workbench/discovery"
)

func fail(method string, err error) {
	s := status.Convert(err)
	fmt.Printf("error %s %s: %s\n", method, s.Code(), s.Message())
	os.Exit(1)
}

func main() {
	hub := flag.String("hub", "127.0.0.1:8004", "the hub's address")
	prefix := flag.String("prefix", "/", "WatchService's prefix")
	name := flag.String("name", "/user", "the service to ask GetServices for")
	n := flag.Int("n", 1, "how many GetServices calls")
	health := flag.Bool("health", true, "ask the instance's health")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, *hub, grpc.WithInsecure(), grpc.WithBlock())
	if err != nil {
		fail("Dial", err)
	}
	defer conn.Close()
	discoveryClient := discoveryPb.NewDiscoveryClient(conn)
	w, err := discoveryClient.WatchService(ctx, &discoveryPb.Prefix{Prefix: *prefix})
	if err != nil {
		fail("WatchService", err)
	}
	fmt.Printf("watch %s\n", strings.Join(w.Names, ","))

	var info *discoveryPb.ServiceInfo
	for i := 0; i < *n; i++ {
		info, err = discoveryClient.GetServices(ctx, &discoveryPb.ServiceName{Name: *name})
		if err != nil {
			fail("GetServices", err)
		}
		fmt.Printf("get %s %s\n", info.Address, strings.Join(info.Addresses, ","))
	}
	if !*health || info == nil {
		return
	}
	// As the tutorial's gateway does: dial the address the hub gave.
	svcConn, err := grpc.DialContext(ctx, info.Address, grpc.WithInsecure(), grpc.WithBlock())
	if err != nil {
		fail("Dial "+info.Address, err)
	}
	defer svcConn.Close()
	h, err := healthpb.NewHealthClient(svcConn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil {
		fail("Health/Check", err)
	}
	fmt.Printf("health %s\n", h.Status)
}

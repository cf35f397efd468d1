// Command grpcclient checks a gRPC server with grpc-go's own client (Debian's
// golang-google-grpc-dev, built offline in GOPATH mode): helloworld's SayHello exactly as
// grpc's examples call it, Arith, a server-streaming Count, the standard health client,
// UNIMPLEMENTED and a deadline. It prints one line per check and exits non-zero if any fails.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"workbench/pb"
)

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
	addr := flag.String("addr", "127.0.0.1:50051", "server address")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, *addr, grpc.WithInsecure(), grpc.WithBlock())
	if err != nil {
		fmt.Printf("FAIL dial %s: %v\n", *addr, err)
		os.Exit(1)
	}
	defer conn.Close()

	var hr pb.HelloReply
	err = conn.Invoke(ctx, "/helloworld.Greeter/SayHello", &pb.HelloRequest{Name: "world"}, &hr)
	check("SayHello world", err == nil && hr.Message == "Hello world", "%v %q", err, hr.Message)

	var p pb.Product
	err = conn.Invoke(ctx, "/arith.Arith/Multiply", &pb.Args{A: 7, B: 8}, &p)
	check("Multiply 7*8", err == nil && p.Value == 56, "%v %v", err, p.Value)
	var q pb.Quotient
	err = conn.Invoke(ctx, "/arith.Arith/Divide", &pb.Args{A: 1, B: 0}, &q)
	st, _ := status.FromError(err)
	check("Divide by zero is INVALID_ARGUMENT", st.Code() == codes.InvalidArgument && st.Message() == "divide by zero",
		"%v", err)

	err = conn.Invoke(ctx, "/helloworld.Greeter/Nope", &pb.HelloRequest{}, &hr)
	check("unknown method is UNIMPLEMENTED", status.Code(err) == codes.Unimplemented, "%v", err)

	desc := &grpc.StreamDesc{StreamName: "Count", ServerStreams: true}
	cs, err := conn.NewStream(ctx, desc, "/tally.Tally/Count")
	var got []int64
	if err == nil {
		err = cs.SendMsg(&pb.CountRequest{To: 10})
	}
	if err == nil {
		err = cs.CloseSend()
	}
	for err == nil {
		var n pb.Number
		if err = cs.RecvMsg(&n); err == nil {
			got = append(got, n.Value)
		}
	}
	check("Count 1..10 (server streaming)", err == io.EOF && len(got) == 10 && got[9] == 10, "%v %v", err, got)

	short, cancel2 := context.WithTimeout(ctx, 300*time.Millisecond)
	cs, err = conn.NewStream(short, desc, "/tally.Tally/Count")
	if err == nil {
		err = cs.SendMsg(&pb.CountRequest{To: 100, IntervalMs: 100})
	}
	for err == nil {
		var n pb.Number
		err = cs.RecvMsg(&n)
	}
	cancel2()
	check("a deadline gives DEADLINE_EXCEEDED", status.Code(err) == codes.DeadlineExceeded, "%v", err)

	h := healthpb.NewHealthClient(conn)
	hres, err := h.Check(ctx, &healthpb.HealthCheckRequest{Service: "helloworld.Greeter"})
	check("health Check SERVING (grpc-go's health client)",
		err == nil && hres.Status == healthpb.HealthCheckResponse_SERVING, "%v %v", err, hres)
	_, err = h.Check(ctx, &healthpb.HealthCheckRequest{Service: "no.Such"})
	check("health Check unknown is NOT_FOUND", status.Code(err) == codes.NotFound, "%v", err)

	var wg sync.WaitGroup
	var mu sync.Mutex
	bad := 0
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			var r pb.HelloReply
			name := fmt.Sprintf("caller %d %s", i, strings.Repeat("x", i))
			err := conn.Invoke(ctx, "/helloworld.Greeter/SayHello", &pb.HelloRequest{Name: name}, &r)
			if err != nil || r.Message != "Hello "+name {
				mu.Lock()
				bad++
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	check("200 concurrent SayHello on one connection", bad == 0, "%d failed", bad)

	if failed > 0 {
		fmt.Printf("%d checks failed\n", failed)
		os.Exit(1)
	}
	fmt.Println("all checks passed")
}

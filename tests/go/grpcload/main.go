// Command grpcload drives arith.Arith/Multiply with grpc-go's own client: one connection,
// -inflight calls at once (goroutines, each starting a new call as its last ends), until
// -calls have ended or -seconds have passed. bench/grpcmux.sh sets it beside the
// workbench's asynchronous client (tests/tools/grpcmux_bench.c) and prints the same line:
//
//	grpcgo calls=N ok=N secs=S calls_per_sec=X cpu_us_per_call=C
//
// (C: this process's CPU time, user and system, per call.)
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"workbench/pb"
)

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "server address")
	calls := flag.Int64("calls", 200000, "calls in all")
	inflight := flag.Int("inflight", 64, "calls in flight")
	seconds := flag.Int("seconds", 30, "at most this long")
	flag.Parse()
	ctx := context.Background()
	conn, err := grpc.Dial(*addr, grpc.WithInsecure(), grpc.WithBlock())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer conn.Close()
	var p pb.Product
	if err := conn.Invoke(ctx, "/arith.Arith/Multiply", &pb.Args{A: 6, B: 7}, &p); err != nil || p.Value != 42 {
		fmt.Fprintln(os.Stderr, "the first call failed:", err)
		os.Exit(1)
	}
	var started, ended, ok int64
	stopAt := time.Now().Add(time.Duration(*seconds) * time.Second)
	cpu0, t0 := cpuSeconds(), time.Now()
	var wg sync.WaitGroup
	for i := 0; i < *inflight; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for atomic.AddInt64(&started, 1) <= *calls && time.Now().Before(stopAt) {
				var r pb.Product
				cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
				err := conn.Invoke(cctx, "/arith.Arith/Multiply", &pb.Args{A: 6, B: 7}, &r)
				cancel()
				atomic.AddInt64(&ended, 1)
				if err == nil && r.Value == 42 {
					atomic.AddInt64(&ok, 1)
				}
			}
		}()
	}
	wg.Wait()
	secs, cpu := time.Since(t0).Seconds(), cpuSeconds()-cpu0
	n := float64(ended)
	if n == 0 {
		n = 1
	}
	fmt.Printf("grpcgo calls=%d ok=%d secs=%.2f calls_per_sec=%.0f cpu_us_per_call=%.2f\n", ended, ok, secs,
		float64(ended)/secs, cpu*1e6/n)
	if ok != ended {
		os.Exit(1)
	}
}

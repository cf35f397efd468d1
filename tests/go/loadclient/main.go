// Command loadclient drives a net/rpc server (gob or JSON) as hard as it can: several
// connections, many calls in flight on each, for a fixed time. It prints calls per second.
// The benchmark points the same load client at Go's servers and at ours.
package main

import (
	"flag"
	"fmt"
	"net/rpc"
	"net/rpc/jsonrpc"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

type Args struct{ A, B int }

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "server address")
	codec := flag.String("codec", "gob", "gob or json")
	conns := flag.Int("conns", 4, "connections")
	inflight := flag.Int("inflight", 32, "calls in flight per connection")
	dur := flag.Duration("duration", 5*time.Second, "how long to run")
	flag.Parse()
	var total, errs int64
	var wg sync.WaitGroup
	stop := time.Now().Add(*dur)
	start := time.Now()
	for i := 0; i < *conns; i++ {
		var c *rpc.Client
		var err error
		if *codec == "json" {
			c, err = jsonrpc.Dial("tcp", *addr)
		} else {
			c, err = rpc.Dial("tcp", *addr)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "dial:", err)
			os.Exit(1)
		}
		for j := 0; j < *inflight; j++ {
			wg.Add(1)
			go func(c *rpc.Client, j int) {
				defer wg.Done()
				var r int
				for k := 0; time.Now().Before(stop); k++ {
					if err := c.Call("Arith.Multiply", Args{j, k}, &r); err != nil || r != j*k {
						atomic.AddInt64(&errs, 1)
						continue
					}
					atomic.AddInt64(&total, 1)
				}
			}(c, j)
		}
	}
	wg.Wait()
	el := time.Since(start).Seconds()
	fmt.Printf("calls=%d errors=%d seconds=%.3f calls_per_sec=%.0f\n", total, errs, el, float64(total)/el)
	if errs > 0 {
		os.Exit(1)
	}
}

// Command labclient is the client a learner of the etcd service-discovery tutorial would
// write with grpc-go: it finds helloworld.Greeter's instances through an etcd resolver
// (lessons/go/etcdnaming's Builder: a Get of the service's prefix, then a Watch),
// balances round robin over them, and calls SayHello at a steady rate with a deadline.
// grpc-go is left at its defaults: no retries, no keepalive, its own reconnect backoff.
// The bench of the lab (bench/lab.sh) runs it beside `workbench load` against the same
// faults.
//
// In a lab (WB_LAB_EVENTS, WB_LAB_T0, WB_LAB_HOST set) it writes its events to the lab's
// timeline in the shapes `workbench load` writes them:
//
//	load start SERVICE at N/s            load end: N calls, M failed
//	registry added ADDR                  registry dropped ADDR       (the resolver's lists)
//	calls failed N calls (ADDR: REASON)  (at most every 100 ms while calls fail)
//	balancer ejected ADDR for 0 ms: connection STATE   balancer back ADDR
//
// The balancer lines are round_robin's own view: a subchannel that leaves READY is no
// longer picked (grpc-go has no ejection of its own); it is picked again when READY.
//
//	labclient -etcd 10.77.0.13:2379,10.77.0.14:2379 -service hello -rate 100 -duration 12s
package main

import (
	"context"
	"flag"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"etcdnaming"
	"go.etcd.io/etcd/clientv3"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc"
	"google.golang.org/grpc/balancer"
	_ "google.golang.org/grpc/balancer/roundrobin"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/status"
	"workbench/pb"
)

// eventCap is how many bytes of events one process writes, as the C programs' eventlog.
const eventCap = 1 << 20

// timeline appends lines "MS HOST WHO TEXT" to the lab's events file, one write each.
type timeline struct {
	mu      sync.Mutex
	f       *os.File
	t0      int64
	host    string
	written int
}

// monoMs is CLOCK_MONOTONIC in milliseconds, the clock WB_LAB_T0 is on (Go's own
// monotonic readings have another origin).
func monoMs() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return ts.Sec*1000 + ts.Nsec/1000000
}

func openTimeline() *timeline {
	path, start := os.Getenv("WB_LAB_EVENTS"), os.Getenv("WB_LAB_T0")
	var t0 int64
	if path == "" || start == "" {
		return &timeline{}
	}
	if _, err := fmt.Sscanf(start, "%d", &t0); err != nil || t0 < 0 {
		return &timeline{}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0600)
	if err != nil {
		return &timeline{}
	}
	host := os.Getenv("WB_LAB_HOST")
	if host == "" || strings.ContainsAny(host, " \t\n") {
		host = "-"
	}
	return &timeline{f: f, t0: t0, host: host}
}

// say appends one event; control characters in the text become spaces.
func (t *timeline) say(who, format string, args ...interface{}) {
	if t.f == nil {
		return
	}
	text := []byte(fmt.Sprintf(format, args...))
	if len(text) > 500 {
		text = text[:500]
	}
	for i, c := range text {
		if c < 0x20 || c == 0x7f {
			text[i] = ' '
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	line := fmt.Sprintf("%d %s %s %s\n", monoMs()-t.t0, t.host, who, text)
	if t.written+len(line) > eventCap {
		return
	}
	if n, err := t.f.Write([]byte(line)); err == nil {
		t.written += n
	}
}

var lab *timeline

// watchedCC is the resolver's ClientConn, telling the timeline what each new list
// adds and drops before grpc-go gets it.
type watchedCC struct {
	resolver.ClientConn
	mu    sync.Mutex
	addrs map[string]bool
}

func (w *watchedCC) UpdateState(s resolver.State) {
	w.mu.Lock()
	now := map[string]bool{}
	for _, a := range s.Addresses {
		now[a.Addr] = true
	}
	var added, dropped []string
	for a := range now {
		if !w.addrs[a] {
			added = append(added, a)
		}
	}
	for a := range w.addrs {
		if !now[a] {
			dropped = append(dropped, a)
		}
	}
	sort.Strings(added)
	sort.Strings(dropped)
	for _, a := range dropped {
		lab.say("registry", "dropped %s", a)
	}
	for _, a := range added {
		lab.say("registry", "added %s", a)
	}
	w.addrs = now
	w.mu.Unlock()
	w.ClientConn.UpdateState(s)
}

// watchedBuilder builds the etcd resolver with a watchedCC.
type watchedBuilder struct{ resolver.Builder }

func (b watchedBuilder) Build(t resolver.Target, cc resolver.ClientConn,
	o resolver.BuildOptions) (resolver.Resolver, error) {
	return b.Builder.Build(t, &watchedCC{ClientConn: cc, addrs: map[string]bool{}}, o)
}

// watchedRR is grpc-go's round_robin, unchanged, with its subchannels' states told to
// the timeline: leaving READY takes one out of the picker, READY again puts it back.
const watchedRR = "round_robin_watched"

type rrBuilder struct{}

func (rrBuilder) Name() string { return watchedRR }

func (rrBuilder) Build(cc balancer.ClientConn, o balancer.BuildOptions) balancer.Balancer {
	w := &rrBalancer{subs: map[balancer.SubConn]*subState{}}
	w.ClientConn = cc
	w.inner = balancer.Get("round_robin").Build(&rrCC{ClientConn: cc, b: w}, o)
	return w
}

type subState struct {
	addr    string
	state   connectivity.State
	ejected bool
}

type rrBalancer struct {
	balancer.ClientConn
	inner balancer.Balancer
	mu    sync.Mutex
	subs  map[balancer.SubConn]*subState
}

// rrCC notes which address each subchannel round_robin makes is for.
type rrCC struct {
	balancer.ClientConn
	b *rrBalancer
}

func (c *rrCC) NewSubConn(addrs []resolver.Address, o balancer.NewSubConnOptions) (balancer.SubConn, error) {
	sc, err := c.ClientConn.NewSubConn(addrs, o)
	if err == nil && len(addrs) > 0 {
		c.b.mu.Lock()
		c.b.subs[sc] = &subState{addr: addrs[0].Addr, state: connectivity.Idle}
		c.b.mu.Unlock()
	}
	return sc, err
}

func (b *rrBalancer) UpdateClientConnState(s balancer.ClientConnState) error {
	return b.inner.UpdateClientConnState(s)
}

func (b *rrBalancer) ResolverError(err error) { b.inner.ResolverError(err) }

func (b *rrBalancer) UpdateSubConnState(sc balancer.SubConn, s balancer.SubConnState) {
	b.mu.Lock()
	if st := b.subs[sc]; st != nil {
		next := s.ConnectivityState
		switch {
		case next == connectivity.Shutdown:
			delete(b.subs, sc)
		case st.state == connectivity.Ready && next != connectivity.Ready:
			st.ejected = true
			lab.say("balancer", "ejected %s for 0 ms: connection %s", st.addr, next)
		case next == connectivity.Ready && st.ejected:
			st.ejected = false
			lab.say("balancer", "back %s", st.addr)
		}
		st.state = next
	}
	b.mu.Unlock()
	b.inner.UpdateSubConnState(sc, s)
}

func (b *rrBalancer) Close() { b.inner.Close() }

// failures gathers failed calls into one "calls failed" line per 100 ms at most.
type failures struct {
	mu       sync.Mutex
	pending  int
	total    int
	addr     string
	why      string
	lastLine time.Time
}

func (f *failures) add(addr, why string) {
	f.mu.Lock()
	f.pending++
	f.total++
	f.addr, f.why = addr, why
	f.mu.Unlock()
	f.flush(false)
}

func (f *failures) flush(now bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pending == 0 || (!now && time.Since(f.lastLine) < 100*time.Millisecond) {
		return
	}
	lab.say("calls", "failed %d calls (%s: %s)", f.pending, f.addr, f.why)
	f.pending = 0
	f.lastLine = time.Now()
}

// reason is a failed call's status, short: "DeadlineExceeded: context deadline exceeded".
func reason(err error) string {
	s := status.Convert(err)
	why := s.Code().String()
	if m := s.Message(); m != "" {
		why += ": " + m
	}
	if len(why) > 120 {
		why = why[:120]
	}
	return why
}

func main() {
	endpoints := flag.String("etcd", "127.0.0.1:2379", "etcd's endpoints, HOST:PORT,HOST:PORT (etcd:// may lead)")
	service := flag.String("service", "hello", "the service's name in etcd (keys SERVICE/HOST:PORT)")
	rate := flag.Float64("rate", 100, "calls per second")
	duration := flag.Duration("duration", 10*time.Second, "how long to call")
	timeout := flag.Duration("timeout", time.Second, "each call's deadline")
	name := flag.String("name", "lab", "the name to greet")
	flag.Parse()
	if *rate <= 0 || *rate > 100000 || *duration <= 0 || *timeout <= 0 {
		fmt.Fprintln(os.Stderr, "labclient: -rate (1..100000), -duration and -timeout must be positive")
		os.Exit(2)
	}
	lab = openTimeline()
	balancer.Register(rrBuilder{})

	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   strings.Split(strings.TrimPrefix(*endpoints, "etcd://"), ","),
		DialTimeout: 5 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, "labclient: etcd:", err)
		os.Exit(1)
	}
	defer cli.Close()
	// grpc-go 1.33 would send the name as :authority, where '/' is not allowed (see
	// lessons/go/etcdnaming/client); escaped as newer grpc-go does.
	conn, err := grpc.Dial("etcd:///"+*service, grpc.WithInsecure(),
		grpc.WithAuthority(url.PathEscape(*service)),
		grpc.WithResolvers(watchedBuilder{&etcdnaming.Builder{Client: cli}}),
		grpc.WithDefaultServiceConfig(`{"loadBalancingPolicy":"`+watchedRR+`"}`))
	if err != nil {
		fmt.Fprintln(os.Stderr, "labclient: dial:", err)
		os.Exit(1)
	}
	defer conn.Close()

	// Until a connection is ready, at most 10 s: the load starts warm, as ours does.
	ready, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	for st := conn.GetState(); st != connectivity.Ready; st = conn.GetState() {
		if !conn.WaitForStateChange(ready, st) {
			fmt.Fprintln(os.Stderr, "labclient: no connection ready after 10 s; calling anyway")
			break
		}
	}
	cancel()

	var fails failures
	var wg sync.WaitGroup
	var mu sync.Mutex
	perAddr := map[string]int{}
	calls := 0
	lab.say("load", "start %s at %g/s", *service, *rate)
	start := time.Now()
	period := time.Duration(float64(time.Second) / *rate)
	for i := 0; ; i++ {
		due := start.Add(time.Duration(i) * period)
		if due.Sub(start) >= *duration {
			break
		}
		time.Sleep(time.Until(due))
		calls++
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), *timeout)
			defer cancel()
			var p peer.Peer
			err := conn.Invoke(ctx, "/helloworld.Greeter/SayHello", &pb.HelloRequest{Name: *name},
				new(pb.HelloReply), grpc.Peer(&p))
			addr := "-"
			if p.Addr != nil {
				addr = p.Addr.String()
			}
			if err != nil {
				fails.add(addr, reason(err))
				return
			}
			mu.Lock()
			perAddr[addr]++
			mu.Unlock()
		}()
		fails.flush(false)
	}
	wg.Wait()
	fails.flush(true)
	lab.say("load", "end: %d calls, %d failed", calls, fails.total)
	fmt.Printf("grpc-go round_robin via etcd: %d calls in %.1f s, %d failed\n",
		calls, time.Since(start).Seconds(), fails.total)
	addrs := make([]string, 0, len(perAddr))
	for a := range perAddr {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	for _, a := range addrs {
		fmt.Printf("  %-22s %d calls\n", a, perAddr[a])
	}
}

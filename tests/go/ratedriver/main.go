// Command ratedriver sends HTTP/1.1 GET requests at a fixed rate over keep-alive
// connections and prints the latency the requests saw. The load is open: request i is
// due at start + i/rate whether or not the earlier ones came back, and its latency counts
// from that due time, so time spent waiting for a free connection (queueing behind a slow
// answer) is part of it instead of being hidden (coordinated omission). A request goes
// out on whichever connection is free; when none is, it waits in the queue.
//
// One line of key=value comes out: asked and achieved rate, sent/ok/errors, the latency
// percentiles in microseconds, and whether the rate was kept (achieved within 1% of asked).
// The driver's own lateness (how late it handed requests out, from the Go scheduler and
// timers) is printed too, so it can be told from the server's.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"sort"
	"sync"
	"syscall"
	"time"
)

const prSetTimerslack = 29 // prctl(2)

type conn struct {
	addr string
	c    net.Conn
	br   *bufio.Reader
}

// do sends one request on the connection (dialing it first when it is closed) and
// reads the whole answer; a nil error means a 200 whose body contains expect.
func (k *conn) do(req []byte, expect []byte, timeout time.Duration) error {
	if k.c == nil {
		c, err := net.DialTimeout("tcp", k.addr, timeout)
		if err != nil {
			return err
		}
		k.c, k.br = c, bufio.NewReaderSize(c, 16384)
	}
	k.c.SetDeadline(time.Now().Add(timeout))
	if _, err := k.c.Write(req); err != nil {
		k.close()
		return err
	}
	resp, err := http.ReadResponse(k.br, nil)
	if err != nil {
		k.close()
		return err
	}
	var body bytes.Buffer
	_, err = io.Copy(&body, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil || resp.Close {
		k.close()
	}
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	if !bytes.Contains(body.Bytes(), expect) {
		return fmt.Errorf("unexpected body %.60q", body.String())
	}
	return nil
}

func (k *conn) close() {
	if k.c != nil {
		k.c.Close()
		k.c = nil
	}
}

type result struct {
	sent, ok, errs, dropped int
	lat                     []time.Duration // of the requests that succeeded
	lag                     []time.Duration // how late the driver handed each request out
	elapsed                 time.Duration   // from the first due time to the last answer
	firstErr                string
}

// run drives the connections at rate requests/s for dur; requests not sent within
// grace after the schedule ends are dropped, not sent.
func run(conns []*conn, req, expect []byte, rate float64, dur, timeout, grace time.Duration) result {
	n := int(rate * dur.Seconds())
	queue := make(chan int, n)
	start := time.Now().Add(20 * time.Millisecond)
	due := func(i int) time.Time { return start.Add(time.Duration(float64(i) * 1e9 / rate)) }
	hardStop := start.Add(dur + grace)
	var r result
	r.lag = make([]time.Duration, 0, n)
	var mu sync.Mutex
	var last time.Time
	var wg sync.WaitGroup
	for _, k := range conns {
		wg.Add(1)
		go func(k *conn) {
			defer wg.Done()
			lat := make([]time.Duration, 0, n/len(conns)+16)
			var sent, ok, errs, dropped int
			var firstErr string
			var end time.Time
			for i := range queue {
				if time.Now().After(hardStop) {
					dropped++
					continue
				}
				sent++
				err := k.do(req, expect, timeout)
				end = time.Now()
				if err != nil {
					errs++
					if firstErr == "" {
						firstErr = err.Error()
					}
					continue
				}
				ok++
				lat = append(lat, end.Sub(due(i)))
			}
			mu.Lock()
			r.sent += sent
			r.ok += ok
			r.errs += errs
			r.dropped += dropped
			r.lat = append(r.lat, lat...)
			if end.After(last) {
				last = end
			}
			if r.firstErr == "" {
				r.firstErr = firstErr
			}
			mu.Unlock()
		}(k)
	}
	// The Go runtime's timers wake a sleeper up to a millisecond late; a thread of its
	// own in nanosleep, with the least timer slack, is late by tens of microseconds.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	syscall.RawSyscall(syscall.SYS_PRCTL, prSetTimerslack, 1000, 0)
	for i := 0; i < n; i++ {
		t := due(i)
		if d := time.Until(t); d > 0 {
			ts := syscall.NsecToTimespec(int64(d))
			syscall.Nanosleep(&ts, nil)
		}
		r.lag = append(r.lag, time.Since(t))
		queue <- i
	}
	close(queue)
	wg.Wait()
	if !last.IsZero() {
		r.elapsed = last.Sub(start)
	}
	return r
}

// pct is the q-quantile of sorted durations, in microseconds.
func pct(s []time.Duration, q float64) int64 {
	if len(s) == 0 {
		return 0
	}
	i := int(q*float64(len(s))+0.999999) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(s) {
		i = len(s) - 1
	}
	return s[i].Microseconds()
}

func main() {
	rawURL := flag.String("url", "http://127.0.0.1:8080/", "what to GET")
	rate := flag.Float64("rate", 5000, "requests per second")
	dur := flag.Duration("duration", 10*time.Second, "how long the measured run lasts")
	warmup := flag.Duration("warmup", 2*time.Second, "an unmeasured run at the same rate first")
	nconns := flag.Int("conns", 32, "keep-alive connections")
	expect := flag.String("expect", "", "text every answer's body must contain")
	timeout := flag.Duration("timeout", 5*time.Second, "limit for one request")
	flag.Parse()
	u, err := url.Parse(*rawURL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		fmt.Fprintln(os.Stderr, "ratedriver: -url must be http://HOST:PORT/PATH")
		os.Exit(2)
	}
	if *rate <= 0 || *nconns <= 0 || *dur <= 0 || *dur > 10*time.Minute || *rate > 1e6 {
		fmt.Fprintln(os.Stderr, "ratedriver: -rate, -conns and -duration must be positive (at most 1e6/s and 10m)")
		os.Exit(2)
	}
	req := []byte("GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\n\r\n")
	conns := make([]*conn, *nconns)
	for i := range conns {
		conns[i] = &conn{addr: u.Host}
		if c, err := net.DialTimeout("tcp", u.Host, *timeout); err != nil {
			fmt.Fprintln(os.Stderr, "ratedriver: dial:", err)
			os.Exit(1)
		} else {
			conns[i].c, conns[i].br = c, bufio.NewReaderSize(c, 16384)
		}
	}
	grace := *timeout
	if *warmup > 0 {
		run(conns, req, []byte(*expect), *rate, *warmup, *timeout, grace)
	}
	r := run(conns, req, []byte(*expect), *rate, *dur, *timeout, grace)
	for _, k := range conns {
		k.close()
	}
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	sort.Slice(r.lag, func(i, j int) bool { return r.lag[i] < r.lag[j] })
	secs := dur.Seconds()
	if e := r.elapsed.Seconds(); e > secs {
		secs = e
	}
	achieved := float64(r.ok) / secs
	keeps := "yes"
	if achieved < *rate*0.99 || r.errs > 0 || r.dropped > 0 {
		keeps = "no"
	}
	fmt.Printf("rate=%.0f seconds=%.1f conns=%d sent=%d ok=%d errors=%d dropped=%d achieved_rate=%.1f keeps_rate=%s"+
		" p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d driver_lag_p99_us=%d driver_lag_max_us=%d\n",
		*rate, dur.Seconds(), *nconns, r.sent, r.ok, r.errs, r.dropped, achieved, keeps,
		pct(r.lat, 0.50), pct(r.lat, 0.90), pct(r.lat, 0.99), pct(r.lat, 0.999), pct(r.lat, 1),
		pct(r.lag, 0.99), pct(r.lag, 1))
	if r.firstErr != "" {
		fmt.Fprintln(os.Stderr, "ratedriver: first error:", r.firstErr)
	}
}

// mdnspeer -- an mDNS/DNS-SD peer built on hashicorp/mdns 1.0.3 (the library go-micro's
// mdns registry grew from), for the tests and benchmarks. Same verbs and output lines as
// tests/python/mdns_peer.py, on the interface lo only:
//
//	mdnspeer register NAME PORT [--instance I] [--protocol P] [--ttl S]
//	    serves I (default NAME-PORT) of _NAME._tcp.local. at 127.0.0.1:PORT, prints
//	    "registered I", stays until SIGTERM or SIGINT, then sends a goodbye, prints
//	    "goodbye" and exits 0.
//	mdnspeer browse NAME [--seconds S]
//	    prints "MS add INSTANCE ADDR:PORT protocol=P" and "MS remove INSTANCE" (MS:
//	    milliseconds since the start) until S seconds have passed (default: until SIGTERM).
//	mdnspeer list NAME [--wait MS]
//	    one query, answers collected for MS milliseconds (default 1500), one line
//	    "INSTANCE ADDR:PORT protocol=P" per instance, sorted; exit 0 (also when none).
//
// hashicorp/mdns is not a full RFC 6762 implementation; what it does differently, and what
// this program adds around it:
//   - Its server only answers: it neither probes nor announces, and it sends no goodbye.
//     The announcement at the start (twice, 1 s apart, RFC 6762 section 8.3) and the
//     goodbye (the same records with TTL 0) are sent here, from port 5353, built from the
//     library's own zone records, so that a browser with a cache sees this peer come and go.
//   - Its server answers every question by unicast to the asker's address and port, even
//     a multicast question from port 5353 (only the unicast-response bit is looked at, to
//     pick the section of code, not the destination); its answers put PTR, SRV, TXT and A
//     all in the answer section, never in the additional one.
//   - Its records' TTL is a constant 120 s; --ttl is applied here by a Zone wrapper.
//   - Its client sends queries from an ephemeral port (legacy unicast, RFC 6762 section
//     6.7: responders answer by unicast to that port, with the query's id) and also reads
//     everything multicast to 224.0.0.251:5353, unrelated services too (filtered here by
//     the service type). An entry is reported once it has an address, a port and a TXT;
//     when an answer lacks some, it asks a PTR question about the instance name, which
//     full responders do not answer.
//   - Its client loses the records that come before the SRV naming their host: an A
//     record read before that SRV is kept apart from the instance. Which address it
//     reports then depends on the order of the answer's records, and zeroconf's order
//     changes from run to run (Python's string hashing), so an instance that has both an
//     A and an AAAA record may come with only ::1. Addresses print as go-micro's mdns
//     registry takes them: the IPv4 address, else the IPv6 one in brackets.
//   - Its client has no cache and no notion of TTL or goodbye: a query lasts its timeout
//     and returns what came. browse therefore asks again every second and reports an
//     instance removed when two queries in a row have not found it.
package main

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/mdns"
	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"
)

const address = "127.0.0.1"

var start = time.Now()

func ms() int64 { return time.Since(start).Milliseconds() }

func say(format string, a ...interface{}) {
	fmt.Fprintf(os.Stdout, format+"\n", a...)
}

func die(code int, format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "mdnspeer: "+format+"\n", a...)
	os.Exit(code)
}

func usage() {
	die(2, "usage: mdnspeer register NAME PORT [--instance I] [--protocol P] [--ttl S]\n"+
		"       mdnspeer browse NAME [--seconds S]\n"+
		"       mdnspeer list NAME [--wait MS]")
}

// options: the --KEY VALUE pairs after the positional arguments, only those in allowed
func options(args []string, allowed ...string) map[string]string {
	out := map[string]string{}
	for i := 0; i < len(args); i += 2 {
		key := strings.TrimLeft(args[i], "-")
		known := false
		for _, a := range allowed {
			known = known || a == key
		}
		if !strings.HasPrefix(args[i], "-") || !known || i+1 >= len(args) {
			usage()
		}
		out[key] = args[i+1]
	}
	return out
}

func number(s string, what string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		die(2, "%s: not a number: %q", what, s)
	}
	return n
}

func lo() *net.Interface {
	ifc, err := net.InterfaceByName("lo")
	if err != nil {
		die(1, "interface lo: %v", err)
	}
	return ifc
}

func serviceType(name string) string { return "_" + name + "._tcp" }

// ttlZone serves the library's records with the TTL asked for instead of its 120 s.
type ttlZone struct {
	svc *mdns.MDNSService
	ttl uint32
}

func (z *ttlZone) Records(q dns.Question) []dns.RR {
	recs := z.svc.Records(q)
	for _, rr := range recs {
		rr.Header().Ttl = z.ttl
	}
	return recs
}

// announce multicasts the zone's PTR, SRV, TXT and A records from port 5353 with the
// given TTL (0: a goodbye).
func announce(z *ttlZone, ttl uint32) error {
	saved := z.ttl
	z.ttl = ttl
	recs := z.Records(dns.Question{Name: z.svc.Service + ".local.", Qtype: dns.TypePTR})
	z.ttl = saved
	for _, rr := range recs {
		if rr.Header().Rrtype != dns.TypePTR {
			rr.Header().Class |= 1 << 15 // cache-flush: these records are this host's alone
		}
	}
	msg := &dns.Msg{MsgHdr: dns.MsgHdr{Response: true, Authoritative: true}, Answer: recs, Compress: true}
	buf, err := msg.Pack()
	if err != nil {
		return err
	}
	// Like the library's, this socket is bound to 0.0.0.0:5353 (Go's ListenMulticastUDP);
	// it lives only for the send.
	// No multicast interface is set on it: the route to 224.0.0.0/4 picks lo (and the
	// source address; see tests/integration/mdns_lib.sh).
	conn, err := net.ListenMulticastUDP("udp4", nil, &net.UDPAddr{IP: net.ParseIP("224.0.0.251"), Port: 5353})
	if err != nil {
		return err
	}
	defer conn.Close()
	p := ipv4.NewPacketConn(conn)
	_ = p.SetMulticastTTL(255)
	_ = p.SetMulticastLoopback(true)
	_, err = conn.WriteToUDP(buf, &net.UDPAddr{IP: net.ParseIP("224.0.0.251"), Port: 5353})
	return err
}

func register(args []string) {
	if len(args) < 2 {
		usage()
	}
	name, port := args[0], number(args[1], "PORT")
	opt := options(args[2:], "instance", "protocol", "ttl")
	instance := opt["instance"]
	if instance == "" {
		instance = fmt.Sprintf("%s-%d", name, port)
	}
	proto := opt["protocol"]
	if proto == "" {
		proto = "grpc"
	}
	ttl := 10
	if opt["ttl"] != "" {
		ttl = number(opt["ttl"], "--ttl")
	}
	host := "hc-" + strings.ReplaceAll(address, ".", "-") + ".local."
	svc, err := mdns.NewMDNSService(instance, serviceType(name), "local.", host, port,
		[]net.IP{net.ParseIP(address)}, []string{"txtvers=1", "protocol=" + proto, "version=latest"})
	if err != nil {
		die(1, "%v", err)
	}
	zone := &ttlZone{svc: svc, ttl: uint32(ttl)}
	server, err := mdns.NewServer(&mdns.Config{Zone: zone, Iface: lo()})
	if err != nil {
		die(1, "%v", err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	if err := announce(zone, uint32(ttl)); err != nil {
		die(1, "announcing: %v", err)
	}
	say("registered %s", instance)
	select {
	case <-sig:
	case <-time.After(time.Second):
		if err := announce(zone, uint32(ttl)); err != nil {
			fmt.Fprintf(os.Stderr, "mdnspeer: announcing again: %v\n", err)
		}
		<-sig
	}
	server.Shutdown()
	if err := announce(zone, 0); err != nil {
		die(1, "goodbye: %v", err)
	}
	say("goodbye")
}

// found: one instance as the lines print it, keyed by its instance label
type found map[string]string

// query asks once for _NAME._tcp.local. on lo and collects the complete answers for wait.
func query(name string, wait time.Duration) found {
	entries := make(chan *mdns.ServiceEntry, 256)
	suffix := "." + serviceType(name) + ".local."
	out := found{}
	done := make(chan struct{})
	go func() {
		for e := range entries {
			if !strings.HasSuffix(e.Name, suffix) {
				continue
			}
			var addr string
			switch {
			case e.AddrV4 != nil:
				addr = e.AddrV4.String()
			case e.AddrV6 != nil:
				addr = "[" + e.AddrV6.String() + "]"
			default:
				continue
			}
			label := strings.ReplaceAll(strings.TrimSuffix(e.Name, suffix), "\\", "")
			proto := "?"
			for _, f := range e.InfoFields {
				if strings.HasPrefix(f, "protocol=") {
					proto = strings.TrimPrefix(f, "protocol=")
				}
			}
			out[label] = fmt.Sprintf("%s:%d protocol=%s", addr, e.Port, proto)
		}
		close(done)
	}()
	params := mdns.DefaultParams(serviceType(name))
	params.Entries = entries
	params.Timeout = wait
	if err := mdns.Query(params); err != nil {
		fmt.Fprintf(os.Stderr, "mdnspeer: query: %v\n", err)
		time.Sleep(wait)
	}
	close(entries)
	<-done
	return out
}

func list(args []string) {
	if len(args) < 1 {
		usage()
	}
	wait := 1500
	if w := options(args[1:], "wait")["wait"]; w != "" {
		wait = number(w, "--wait")
	}
	got := query(args[0], time.Duration(wait)*time.Millisecond)
	var lines []string
	for label, text := range got {
		lines = append(lines, label+" "+text)
	}
	sort.Strings(lines)
	for _, l := range lines {
		say("%s", l)
	}
}

func browse(args []string) {
	if len(args) < 1 {
		usage()
	}
	var deadline <-chan time.Time
	if s := options(args[1:], "seconds")["seconds"]; s != "" {
		secs, err := strconv.ParseFloat(s, 64)
		if err != nil || secs < 0 {
			die(2, "--seconds: not a number: %q", s)
		}
		deadline = time.After(time.Duration(secs * float64(time.Second)))
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	seen := found{}
	missed := map[string]int{}
	for {
		got := query(args[0], time.Second)
		for label, text := range got {
			missed[label] = 0
			if seen[label] != text {
				seen[label] = text
				say("%d add %s %s", ms(), label, text)
			}
		}
		for label := range seen {
			if _, ok := got[label]; ok {
				continue
			}
			if missed[label]++; missed[label] >= 2 {
				delete(seen, label)
				delete(missed, label)
				say("%d remove %s", ms(), label)
			}
		}
		select {
		case <-sig:
			return
		case <-deadline:
			return
		default:
		}
	}
}

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	switch os.Args[1] {
	case "register":
		register(os.Args[2:])
	case "browse":
		browse(os.Args[2:])
	case "list":
		list(os.Args[2:])
	default:
		usage()
	}
}

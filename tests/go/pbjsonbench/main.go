// Command pbjsonbench measures proto3's JSON mapping in Go, as a user of a dynamic gRPC
// client would have it: google.golang.org/protobuf's protojson on a message built by
// dynamicpb from a descriptor set (no generated code), for `make bench` beside
// tests/tools/pbjson_bench.c, which prints the same lines.
//
// Usage: pbjsonbench --descriptors FILE --type NAME --json TEXT [--iterations N] [--seconds S]
//
// Two loops, each at most N iterations and S seconds: JSON text -> message -> protobuf
// bytes, and protobuf bytes -> message -> JSON text. Prints:
//
//	json_to_bytes ops=N secs=S ops_per_sec=X cpu_ns_per_op=C bytes=LEN
//	bytes_to_json ops=N secs=S ops_per_sec=X cpu_ns_per_op=C json=TEXT
//
// (C: the process's CPU time, user and system, every thread, the collector's too, per
// iteration)
package main

import (
	"flag"
	"fmt"
	"io/ioutil"
	"os"
	"syscall"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

const checkEvery = 64 // iterations between looks at the clock

func die(what string, err error) {
	fmt.Fprintf(os.Stderr, "pbjsonbench: %s: %v\n", what, err)
	os.Exit(1)
}

func messageType(path, name string) protoreflect.MessageDescriptor {
	raw, err := ioutil.ReadFile(path)
	if err != nil {
		die("descriptors", err)
	}
	set := &descriptorpb.FileDescriptorSet{}
	if err := proto.Unmarshal(raw, set); err != nil {
		die(path, err)
	}
	files, err := protodesc.NewFiles(set)
	if err != nil {
		die(path, err)
	}
	d, err := files.FindDescriptorByName(protoreflect.FullName(name))
	if err != nil {
		die(name, err)
	}
	md, ok := d.(protoreflect.MessageDescriptor)
	if !ok {
		die(name, fmt.Errorf("not a message"))
	}
	return md
}

// cpuNs is the process's CPU time so far, in nanoseconds.
func cpuNs() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		die("getrusage", err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// loop runs f at most n times and for at most limit; returns the count, the time taken
// and the CPU time used.
func loop(n int64, limit time.Duration, f func()) (int64, time.Duration, int64) {
	var ops int64
	c0 := cpuNs()
	t0 := time.Now()
	for ops < n {
		f()
		ops++
		if ops%checkEvery == 0 && time.Since(t0) >= limit {
			break
		}
	}
	return ops, time.Since(t0), cpuNs() - c0
}

func report(name string, ops int64, d time.Duration, cpu int64, tail string) {
	s := d.Seconds()
	rate := 0.0
	if s > 0 {
		rate = float64(ops) / s
	}
	fmt.Printf("%s ops=%d secs=%.3f ops_per_sec=%.0f cpu_ns_per_op=%.0f %s\n", name, ops, s, rate,
		float64(cpu)/float64(ops), tail)
}

func main() {
	desc := flag.String("descriptors", "", "a descriptor set (protoc --include_imports --descriptor_set_out)")
	name := flag.String("type", "pb.Student", "the message type")
	text := flag.String("json", "", "the message as JSON")
	n := flag.Int64("iterations", 1000000, "at most this many iterations per loop")
	secs := flag.Float64("seconds", 3, "at most this long per loop")
	flag.Parse()
	if *desc == "" || *text == "" || *n < 1 || *secs <= 0 {
		die("arguments", fmt.Errorf("want --descriptors and --json"))
	}
	md := messageType(*desc, *name)
	limit := time.Duration(*secs * float64(time.Second))
	in := []byte(*text)

	var bytes []byte
	toBytes := func() {
		m := dynamicpb.NewMessage(md)
		if err := protojson.Unmarshal(in, m); err != nil {
			die("unmarshal JSON", err)
		}
		b, err := proto.Marshal(m)
		if err != nil {
			die("marshal", err)
		}
		bytes = b
	}
	toBytes()
	ops, d, cpu := loop(*n, limit, toBytes)
	report("json_to_bytes", ops, d, cpu, fmt.Sprintf("bytes=%d", len(bytes)))

	var out []byte
	toJSON := func() {
		m := dynamicpb.NewMessage(md)
		if err := proto.Unmarshal(bytes, m); err != nil {
			die("unmarshal", err)
		}
		j, err := protojson.Marshal(m)
		if err != nil {
			die("marshal JSON", err)
		}
		out = j
	}
	ops, d, cpu = loop(*n, limit, toJSON)
	report("bytes_to_json", ops, d, cpu, "json="+string(out))
}

// Command gateway is the peer of bin/gateway in `make bench`: the REST gateway a Go user
// would write with the standard library's net/http (Gin is not packaged for offline
// builds) and grpc-go (Debian's golang-google-grpc-dev), serving GET /arith/multiply by
// calling arith.Arith/Multiply. It takes the backend's address as a flag: the benchmark
// measures the request path, where neither gateway consults the registry.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"workbench/pb"
)

func writeJSON(w http.ResponseWriter, code int, v interface{}) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to serve on")
	backend := flag.String("arith", "127.0.0.1:50051", "address of the arith gRPC service")
	flag.Parse()
	conn, err := grpc.Dial(*backend, grpc.WithInsecure())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	http.HandleFunc("/arith/multiply", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use GET"})
			return
		}
		a, errA := strconv.ParseInt(r.URL.Query().Get("a"), 10, 64)
		b, errB := strconv.ParseInt(r.URL.Query().Get("b"), 10, 64)
		if errA != nil || errB != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "a and b must be integers"})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		var p pb.Product
		if err := conn.Invoke(ctx, "/arith.Arith/Multiply", &pb.Args{A: a, B: b}, &p); err != nil {
			code := http.StatusInternalServerError
			if status.Code(err) == codes.Unavailable {
				code = http.StatusServiceUnavailable
			}
			writeJSON(w, code, map[string]string{"error": err.Error(), "code": status.Code(err).String()})
			return
		}
		writeJSON(w, http.StatusOK, map[string]int64{"value": p.Value})
	})
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	if err := http.Serve(ln, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

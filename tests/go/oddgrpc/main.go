// Command oddgrpc is an HTTP/2 (cleartext) server that answers gRPC calls the way a
// faulty or foreign server might, for the tests of the workbench's gRPC clients: Go's
// own net/http HTTP/2, not grpc-go, so each reply is exactly what the method's name
// says. It prints the address it listens on as its first line.
//
//	/odd.Odd/Compressed   a reply message marked compressed (gzip), status 0
//	/odd.Odd/Big          a reply message announced as 5 MiB, its bytes following
//	/odd.Odd/Two          two reply messages to a unary call, status 0
//	/odd.Odd/NoStatus     a reply message, then the end of the stream without trailers
//	/odd.Odd/Message      status 3 with a percent-encoded grpc-message
//	/odd.Odd/Html         HTTP 404 with an HTML page
//	/odd.Odd/Text         HTTP 200 with text/plain
//	/odd.Odd/Busy         HTTP 503 with text/plain
//	/odd.Odd/Early        a reply message and status 0 at once, the request not read
//	any other             the request message back, status 0
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"io/ioutil"
	"net"
	"net/http"
	"os"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"
)

func frame(flag byte, msg []byte) []byte {
	b := make([]byte, 5+len(msg))
	b[0] = flag
	binary.BigEndian.PutUint32(b[1:5], uint32(len(msg)))
	copy(b[5:], msg)
	return b
}

func grpcReply(w http.ResponseWriter, body []byte, status string, message string) {
	w.Header().Set("Content-Type", "application/grpc")
	w.Header().Set("Trailer", "Grpc-Status, Grpc-Message")
	w.WriteHeader(200)
	w.Write(body)
	if status != "" {
		w.Header().Set("Grpc-Status", status)
		if message != "" {
			w.Header().Set("Grpc-Message", message)
		}
	}
}

func handle(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/odd.Odd/Early" {
		grpcReply(w, frame(0, []byte{8, 1}), "0", "")
		return
	}
	req, _ := ioutil.ReadAll(io.LimitReader(r.Body, 1<<20))
	msg := []byte{}
	if len(req) >= 5 {
		msg = req[5:]
	}
	switch r.URL.Path {
	case "/odd.Odd/Compressed":
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(msg)
		zw.Close()
		w.Header().Set("Grpc-Encoding", "gzip")
		grpcReply(w, frame(1, z.Bytes()), "0", "")
	case "/odd.Odd/Big":
		w.Header().Set("Content-Type", "application/grpc")
		w.WriteHeader(200)
		head := make([]byte, 5)
		binary.BigEndian.PutUint32(head[1:5], 5<<20)
		w.Write(head)
		chunk := make([]byte, 64<<10)
		for i := 0; i < 80; i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	case "/odd.Odd/Two":
		grpcReply(w, append(frame(0, msg), frame(0, msg)...), "0", "")
	case "/odd.Odd/NoStatus":
		w.Header().Set("Content-Type", "application/grpc")
		w.WriteHeader(200)
		w.Write(frame(0, msg))
	case "/odd.Odd/Message":
		grpcReply(w, nil, "3", "bad%20thing:%2050%25%20caf%C3%A9")
	case "/odd.Odd/Html":
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(404)
		w.Write([]byte("<html><body>not found</body></html>"))
	case "/odd.Odd/Text":
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(200)
		w.Write([]byte("hello"))
	case "/odd.Odd/Busy":
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(503)
		w.Write([]byte("busy"))
	default:
		grpcReply(w, frame(0, msg), "0", "")
	}
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	srv := &http.Server{Handler: h2c.NewHandler(http.HandlerFunc(handle), &http2.Server{})}
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// Command ownserver is a learner's own Go net/rpc server: its own nested argument and reply
// types, which the workbench has never seen. The tests call it with `workbench call gob://`.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/rpc"
	"os"
)

type People struct{ Weight int }

type Student struct {
	Name    string
	Age     int32
	P       People
	Score   []int
	Tags    map[string]int
	Teacher *People
	Ratio   float64
	OK      bool
	Raw     []byte
}

type School struct{}

// Enroll returns the student changed: a greeting in the name, a year older, one more score.
func (s *School) Enroll(st Student, reply *Student) error {
	*reply = st
	reply.Name = st.Name + " 你好"
	reply.Age = st.Age + 1
	reply.Score = append(append([]int{}, st.Score...), 100)
	return nil
}

// Count is how many scores and tags the student has.
func (s *School) Count(st Student, reply *int) error {
	*reply = len(st.Score) + len(st.Tags)
	return nil
}

// Names gives n names.
func (s *School) Names(n int, reply *[]string) error {
	if n < 0 || n > 100 {
		return errors.New("n must be from 0 to 100")
	}
	for i := 0; i < n; i++ {
		*reply = append(*reply, fmt.Sprintf("学生%d", i+1))
	}
	return nil
}

// Fail always answers with an error.
func (s *School) Fail(st Student, reply *Student) error {
	return errors.New("school is closed for " + st.Name)
}

type World struct{}

// HelloWorld is tutorial 001's method: a plain string in and out.
func (w *World) HelloWorld(name string, resp *string) error {
	*resp = name + " 你好...."
	return nil
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	flag.Parse()
	srv := rpc.NewServer()
	if err := srv.Register(new(School)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	srv.RegisterName("world", new(World))
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(ln.Addr().String())
	for {
		conn, err := ln.Accept()
		if err != nil {
			continue
		}
		go srv.ServeConn(conn)
	}
}

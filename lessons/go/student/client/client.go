// Command client calls student.proto's AddName service through the client that protoc
// generated (lesson 16): pb.NewAddNameClient(conn).AddFunc(ctx, student).
//
//	go build -o client . && ./client -addr 127.0.0.1:8080
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"student/pb"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "the server's address")
	flag.Parse()
	// 1. connect (no TLS)
	grpcConn, err := grpc.Dial(*addr, grpc.WithInsecure())
	if err != nil {
		fmt.Println("grpc dial err:", err)
		os.Exit(1)
	}
	defer grpcConn.Close()
	// 2. the generated client: typed methods instead of a method name in a string
	grpcClient := pb.NewAddNameClient(grpcConn)
	// 3. call the remote function like a local one
	in := &pb.Student{
		Age:   20,
		Name:  "李白",
		P:     &pb.People{Weight: 60},
		Score: []int32{90, 85},
		W:     pb.Week_Tuesday,
		Data:  &pb.Student_Teacher{Teacher: "杜甫"},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := grpcClient.AddFunc(ctx, in)
	if err != nil {
		fmt.Println("client AddFunc err:", err)
		os.Exit(1)
	}
	fmt.Printf("age %d, name %q, weight %d\n", out.Age, out.Name, out.GetP().GetWeight())
	fmt.Printf("score %v, w %v, teacher %q\n", out.Score, out.W, out.GetTeacher())
}

// Package pb holds the messages of the workbench's .proto files for the Go test peers,
// written the way protoc-gen-go (golang/protobuf 1.3) writes them: Debian ships grpc-go
// without the examples' generated helloworld package, and the tests build offline.
package pb

import "github.com/golang/protobuf/proto"

type HelloRequest struct {
	Name string `protobuf:"bytes,1,opt,name=name,proto3" json:"name,omitempty"`
}

func (m *HelloRequest) Reset()         { *m = HelloRequest{} }
func (m *HelloRequest) String() string { return proto.CompactTextString(m) }
func (*HelloRequest) ProtoMessage()    {}

type HelloReply struct {
	Message string `protobuf:"bytes,1,opt,name=message,proto3" json:"message,omitempty"`
}

func (m *HelloReply) Reset()         { *m = HelloReply{} }
func (m *HelloReply) String() string { return proto.CompactTextString(m) }
func (*HelloReply) ProtoMessage()    {}

type Args struct {
	A int64 `protobuf:"varint,1,opt,name=A,proto3" json:"A,omitempty"`
	B int64 `protobuf:"varint,2,opt,name=B,proto3" json:"B,omitempty"`
}

func (m *Args) Reset()         { *m = Args{} }
func (m *Args) String() string { return proto.CompactTextString(m) }
func (*Args) ProtoMessage()    {}

type Product struct {
	Value int64 `protobuf:"varint,1,opt,name=value,proto3" json:"value,omitempty"`
}

func (m *Product) Reset()         { *m = Product{} }
func (m *Product) String() string { return proto.CompactTextString(m) }
func (*Product) ProtoMessage()    {}

type Quotient struct {
	Quo int64 `protobuf:"varint,1,opt,name=Quo,proto3" json:"Quo,omitempty"`
	Rem int64 `protobuf:"varint,2,opt,name=Rem,proto3" json:"Rem,omitempty"`
}

func (m *Quotient) Reset()         { *m = Quotient{} }
func (m *Quotient) String() string { return proto.CompactTextString(m) }
func (*Quotient) ProtoMessage()    {}

type CountRequest struct {
	To         int64 `protobuf:"varint,1,opt,name=to,proto3" json:"to,omitempty"`
	IntervalMs int32 `protobuf:"varint,2,opt,name=interval_ms,json=intervalMs,proto3" json:"interval_ms,omitempty"`
}

func (m *CountRequest) Reset()         { *m = CountRequest{} }
func (m *CountRequest) String() string { return proto.CompactTextString(m) }
func (*CountRequest) ProtoMessage()    {}

type Number struct {
	Value int64 `protobuf:"varint,1,opt,name=value,proto3" json:"value,omitempty"`
}

func (m *Number) Reset()         { *m = Number{} }
func (m *Number) String() string { return proto.CompactTextString(m) }
func (*Number) ProtoMessage()    {}

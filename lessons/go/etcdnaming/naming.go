// Package etcdnaming is a service registry on etcd for grpc-go: a resolver that finds
// the instances of a service (a Get with the prefix, then a Watch) and a registrar that
// puts an instance under the service on a lease and keeps the lease alive.
//
// Keys are SERVICE/HOST:PORT. Values are JSON in the layout of grpc-go's old naming
// package (google.golang.org/grpc/naming, removed in grpc-go 1.30):
//
//	{"Op":0,"Addr":"127.0.0.1:50051","Metadata":{"protocol":"grpc"}}
//
// That package's Resolver and Watcher (Resolve, Next) are gone, so resolver.go writes
// the same Get-then-Watch on today's interfaces, resolver.Builder and resolver.Resolver.
package etcdnaming

// Operation says what an Update does to the list of addresses.
type Operation uint8

const (
	// Add: the address is (still) there.
	Add Operation = iota
	// Delete: the address is gone.
	Delete
)

// Update is one entry of the registry, as grpc-go's naming.Update had it.
type Update struct {
	// Op is Add or Delete.
	Op Operation
	// Addr is the instance's HOST:PORT.
	Addr string
	// Metadata is anything the instance wants its clients to know.
	Metadata interface{}
}

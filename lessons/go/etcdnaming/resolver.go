package etcdnaming

import (
	"context"
	"encoding/json"
	"sort"
	"strings"

	"go.etcd.io/etcd/clientv3"
	"google.golang.org/grpc/resolver"
)

// Builder makes resolvers for targets "etcd:///SERVICE": everything after the third
// slash is the service, so "etcd:////etcd3_naming/hello_service" is the service
// "/etcd3_naming/hello_service". Give it to grpc.Dial with grpc.WithResolvers.
type Builder struct {
	Client *clientv3.Client
	// Logf, when set, is told about every change the resolver sees.
	Logf func(format string, args ...interface{})
}

// Scheme is the part of the target before "://".
func (b *Builder) Scheme() string { return "etcd" }

// Build starts resolving target.Endpoint in the background and returns at once;
// grpc-go waits for the first list of addresses before it sends a call.
func (b *Builder) Build(target resolver.Target, cc resolver.ClientConn,
	opts resolver.BuildOptions) (resolver.Resolver, error) {
	ctx, cancel := context.WithCancel(context.Background())
	r := &etcdResolver{b: b, cc: cc, prefix: target.Endpoint + "/",
		addrs: map[string]string{}, cancel: cancel}
	go r.run(ctx)
	return r, nil
}

type etcdResolver struct {
	b      *Builder
	cc     resolver.ClientConn
	prefix string            // SERVICE/
	addrs  map[string]string // key -> HOST:PORT
	cancel context.CancelFunc
}

// ResolveNow is a hint to resolve again; the watch already reports every change.
func (r *etcdResolver) ResolveNow(resolver.ResolveNowOptions) {}

// Close stops the watch.
func (r *etcdResolver) Close() { r.cancel() }

func (r *etcdResolver) logf(format string, args ...interface{}) {
	if r.b.Logf != nil {
		r.b.Logf(format, args...)
	}
}

// run is the old Watcher's Next in a loop: first every key under the prefix, then the
// changes after that revision, each time handing grpc-go the whole list.
func (r *etcdResolver) run(ctx context.Context) {
	resp, err := r.b.Client.Get(ctx, r.prefix, clientv3.WithPrefix())
	if err != nil {
		r.logf("resolver: get %s: %v", r.prefix, err)
		r.cc.ReportError(err)
		return
	}
	r.logf("resolver: get %s found %d key(s)", r.prefix, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		r.put(string(kv.Key), kv.Value)
	}
	r.update()

	// Watch from the revision after the Get, so no change falls between the two.
	wch := r.b.Client.Watch(ctx, r.prefix, clientv3.WithPrefix(),
		clientv3.WithRev(resp.Header.Revision+1))
	for wresp := range wch {
		if err := wresp.Err(); err != nil {
			r.logf("resolver: watch: %v", err)
			continue
		}
		for _, ev := range wresp.Events {
			key := string(ev.Kv.Key)
			switch ev.Type {
			case clientv3.EventTypePut:
				r.logf("watch: PUT %s", key)
				r.put(key, ev.Kv.Value)
			case clientv3.EventTypeDelete:
				r.logf("watch: DELETE %s", key)
				delete(r.addrs, key)
			}
		}
		r.update()
	}
}

// put reads a value as a naming Update: Add keeps the address, Delete drops it.
func (r *etcdResolver) put(key string, value []byte) {
	var u Update
	if err := json.Unmarshal(value, &u); err != nil || u.Addr == "" {
		r.logf("resolver: %s: not a naming.Update: %q", key, value)
		return
	}
	switch u.Op {
	case Add:
		r.addrs[key] = u.Addr
	case Delete:
		delete(r.addrs, key)
	}
}

// update gives grpc-go the whole list; the balancer (round_robin) connects to new
// addresses and drops the ones that went.
func (r *etcdResolver) update() {
	list := make([]string, 0, len(r.addrs))
	for _, a := range r.addrs {
		list = append(list, a)
	}
	sort.Strings(list)
	state := resolver.State{}
	for _, a := range list {
		state.Addresses = append(state.Addresses, resolver.Address{Addr: a})
	}
	r.logf("resolver: addresses now [%s]", strings.Join(list, " "))
	r.cc.UpdateState(state)
}

package etcdnaming

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/etcd/clientv3"
)

// Registrar puts instances into the registry, as the old naming package's registry did.
type Registrar struct {
	Client *clientv3.Client
	// TTL is the lease's time to live in seconds: a key whose owner stops renewing
	// its lease is gone at most TTL seconds later.
	TTL int64

	stopKeepAlive context.CancelFunc
}

// Update adds (Op: Add) or removes (Op: Delete) the key target+"/"+update.Addr.
func (r *Registrar) Update(target string, update Update) error {
	key := target + "/" + update.Addr
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	switch update.Op {
	case Add:
		value, err := json.Marshal(update)
		if err != nil {
			return err
		}
		lease, err := r.Client.Grant(ctx, r.TTL)
		if err != nil {
			return err
		}
		// The key hangs on the lease: when nobody renews it, etcd deletes the key.
		if _, err := r.Client.Put(ctx, key, string(value), clientv3.WithLease(lease.ID)); err != nil {
			return err
		}
		// The heartbeat: the client renews the lease every TTL/3 for as long as the
		// context lives. Its replies must be read, or the channel fills up.
		kctx, stop := context.WithCancel(context.Background())
		replies, err := r.Client.KeepAlive(kctx, lease.ID)
		if err != nil {
			stop()
			return err
		}
		r.stopKeepAlive = stop
		go func() {
			for range replies {
			}
		}()
		return nil
	case Delete:
		if r.stopKeepAlive != nil {
			r.stopKeepAlive()
		}
		_, err := r.Client.Delete(ctx, key)
		return err
	default:
		return fmt.Errorf("unsupported op %d", update.Op)
	}
}

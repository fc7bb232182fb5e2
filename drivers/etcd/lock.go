package etcd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// lease is the driver's lease for its lock keys, kept alive while the driver lives. When the
// driver's process dies or is cut off from the cluster, the lease expires after the lock TTL
// and etcd deletes its lock keys, which frees the lock for the next writer.
type lease struct {
	id     clientv3.LeaseID
	cancel context.CancelFunc // stops the keepalive
	done   chan struct{}      // closed when the keepalive stops: the lease is lost, or let go
}

// alive reports whether the lease is still being kept alive.
func (l *lease) alive() bool {
	select {
	case <-l.done:
		return false
	default:
		return true
	}
}

// revoke stops the keepalive and revokes the lease, deleting its keys at once; if the revoke
// fails, the lease expires on its own within the TTL.
func (l *lease) revoke(cli *clientv3.Client) {
	l.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	_, _ = cli.Revoke(ctx, l.id)
}

// getLease returns the driver's live lease, granting a new one if it has none. The grant is
// bounded by the lock TTL: a grant sent just after a leader was killed can wait far longer than
// any request should (seen with etcd 3.4), and a writer would rather fail and be retried by
// its caller than hang.
func (d *driver) getLease(ctx context.Context) (*lease, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.lease != nil && d.lease.alive() {
		return d.lease, nil
	}
	d.lease = nil
	gctx, cancel := context.WithTimeout(leader(ctx), time.Duration(d.lockTTL)*time.Second)
	defer cancel()
	g, err := d.cli.Grant(gctx, d.lockTTL)
	if err != nil {
		return nil, d.errorf("grant the write lock's lease", err)
	}
	kctx, kcancel := context.WithCancel(context.Background())
	ch, err := d.cli.KeepAlive(kctx, g.ID)
	if err != nil {
		kcancel()
		return nil, d.errorf("keep the write lock's lease alive", err)
	}
	l := &lease{id: g.ID, cancel: kcancel, done: make(chan struct{})}
	go func() {
		for range ch { // the client closes ch when the lease expires or kctx ends
		}
		close(l.done)
	}()
	d.lease = l
	return l, nil
}

// dropLease lets l go: its keepalive stops and etcd deletes its keys within the TTL. A lock key
// whose deletion failed must not be kept alive by this process.
func (d *driver) dropLease(l *lease) {
	d.mu.Lock()
	if d.lease == l {
		d.lease = nil
	}
	d.mu.Unlock()
	l.cancel()
}

// hold is a writer's place in the lock queue, and, once the lock is its, the revision its
// reads are made at.
type hold struct {
	key       string // the writer's lock key
	createRev int64  // the key's creation revision: its place in the queue
	lease     *lease
	rev       int64 // the revision at which the lock was found held: every read is at it
	commitRev int64 // the commit fence's ModRevision at rev
}

// lock takes the store's write lock, waiting for the writers ahead (see the package doc). One
// transaction puts the writer's key, leased, and reads the queue's head, the schema and the
// fence: an uncontended lock is one round trip.
func (d *driver) lock(ctx context.Context) (*hold, error) {
	for attempt := 1; ; attempt++ {
		l, err := d.getLease(ctx)
		if err != nil {
			return nil, err
		}
		d.mu.Lock()
		d.seq++
		key := fmt.Sprintf("%s%016x-%d", d.l.lock, int64(l.id), d.seq)
		stale := slices.Clone(d.stale)
		d.mu.Unlock()
		ops := []clientv3.Op{
			clientv3.OpPut(key, "", clientv3.WithLease(l.id)),
			clientv3.OpGet(d.l.lock, clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend), clientv3.WithLimit(1), clientv3.WithKeysOnly()),
			clientv3.OpGet(d.l.schema),
			clientv3.OpGet(d.l.commit),
		}
		for _, k := range stale {
			ops = append(ops, clientv3.OpDelete(k))
		}
		r, err := d.cli.Txn(leader(ctx)).Then(ops...).Commit()
		if errors.Is(rpctypes.Error(err), rpctypes.ErrLeaseNotFound) && attempt == 1 {
			d.dropLease(l) // expired on the server before the client noticed: take a new one
			continue
		}
		if err != nil {
			// The key may have been put: it is stale now, and its lease is let go.
			d.abandon(key, l)
			return nil, d.errorf("take the write lock", err)
		}
		d.mu.Lock()
		d.stale = slices.DeleteFunc(d.stale, func(k string) bool { return slices.Contains(stale, k) })
		d.mu.Unlock()
		h := &hold{key: key, createRev: r.Header.Revision, lease: l}
		if err := d.checkSchema(r.Responses[2].GetResponseRange().Kvs); err != nil {
			d.unlock(h)
			return nil, err
		}
		if head := r.Responses[1].GetResponseRange().Kvs; len(head) == 1 && string(head[0].Key) == key {
			h.rev, h.commitRev = r.Header.Revision, modRev(r.Responses[3].GetResponseRange().Kvs)
			return h, nil
		}
		if err := d.waitTurn(ctx, h); err != nil {
			d.unlock(h)
			return nil, err
		}
		return h, nil
	}
}

// checkSchema checks the schema key's value (kvs: the result of reading it) is this driver's
// version.
func (d *driver) checkSchema(kvs []*mvccpb.KeyValue) error {
	if len(kvs) == 1 && string(kvs[0].Value) == schemaValue {
		return nil
	}
	got := "none"
	if len(kvs) == 1 {
		got = strconv.Quote(string(kvs[0].Value))
	}
	return fmt.Errorf("etcd: the store at prefix %q has schema version %s, not %d any more (another process upgraded or removed it; reopen with a matching Dockyard)", d.prefix, got, SchemaVersion)
}

// schemaValue is SchemaVersion as recorded.
var schemaValue = strconv.Itoa(SchemaVersion)

// modRev returns the ModRevision of the one key read, 0 if it is absent.
func modRev(kvs []*mvccpb.KeyValue) int64 {
	if len(kvs) == 0 {
		return 0
	}
	return kvs[0].ModRevision
}

// waitTurn waits until every lock key created before h's is gone, watching the one just ahead
// of it: each waiter watches one key, so a release wakes one waiter, not all of them. It fails
// when ctx ends or h's own key is gone (its lease expired: the process was cut off too long).
func (d *driver) waitTurn(ctx context.Context, h *hold) error {
	for {
		r, err := d.cli.Txn(leader(ctx)).Then(
			clientv3.OpGet(d.l.lock, clientv3.WithPrefix(), clientv3.WithMaxCreateRev(h.createRev-1),
				clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortDescend), clientv3.WithLimit(1), clientv3.WithKeysOnly()),
			clientv3.OpGet(h.key, clientv3.WithKeysOnly()),
			clientv3.OpGet(d.l.commit),
		).Commit()
		if err != nil {
			return d.errorf("wait for the write lock", err)
		}
		if len(r.Responses[1].GetResponseRange().Kvs) == 0 {
			return d.errorf("wait for the write lock", errLeaseLost)
		}
		ahead := r.Responses[0].GetResponseRange().Kvs
		if len(ahead) == 0 {
			h.rev, h.commitRev = r.Header.Revision, modRev(r.Responses[2].GetResponseRange().Kvs)
			return nil
		}
		if err := d.waitDeleted(ctx, h, string(ahead[0].Key), r.Header.Revision+1); err != nil {
			return err
		}
	}
}

// errLeaseLost is why a writer lost its place: its lease expired.
var errLeaseLost = errors.New("the lock's lease expired (this process was cut off from the cluster for longer than lock_ttl)")

// waitDeleted waits until key is deleted at or after revision rev, the watch fails or a lock
// TTL passes (then the caller looks again: a watch stalled on a member that went away must not
// keep a writer waiting), h's lease is lost, or ctx ends.
func (d *driver) waitDeleted(ctx context.Context, h *hold, key string, rev int64) error {
	wctx, cancel := context.WithCancel(leader(ctx))
	defer cancel()
	wch := d.cli.Watch(wctx, key, clientv3.WithRev(rev))
	recheck := time.NewTimer(time.Duration(d.lockTTL) * time.Second)
	defer recheck.Stop()
	for {
		select {
		case <-recheck.C:
			return nil
		case <-ctx.Done():
			return d.errorf("wait for the write lock", ctx.Err())
		case <-h.lease.done:
			return d.errorf("wait for the write lock", errLeaseLost)
		case wr, ok := <-wch:
			if !ok || wr.Err() != nil {
				return nil
			}
			for _, ev := range wr.Events {
				if ev.Type == clientv3.EventTypeDelete {
					return nil
				}
			}
		}
	}
}

// unlock deletes h's lock key; when that fails, the key is abandoned.
func (d *driver) unlock(h *hold) {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if _, err := d.cli.Delete(leader(ctx), h.key); err != nil {
		d.abandon(h.key, h.lease)
	}
}

// abandon gives up a lock key that could not be deleted (the cluster was unreachable, or had
// no leader): its lease is let go, so that etcd deletes it within the TTL, and the next lock
// taken by this driver deletes it in the same transaction. The second matters: each change of
// leader renews every lease for a full TTL, so while leaders keep changing, a key left to its
// lease could hold the queue for as long.
func (d *driver) abandon(key string, l *lease) {
	d.mu.Lock()
	if !slices.Contains(d.stale, key) {
		d.stale = append(d.stale, key)
	}
	d.mu.Unlock()
	d.dropLease(l)
}

package etcd

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/dockyard/dockyard/store"
)

// maxRecvBytes bounds one response, a page of a scan: a page that would be larger fails and is
// asked for again in smaller pages (scanPage), instead of a client holding gigabytes at once.
const maxRecvBytes = 64 << 20

// readTxn is a View: its first read is linearizable, and fixes the revision every later read
// is made at, so the whole callback reads one snapshot.
type readTxn struct {
	d   *driver
	rev int64 // 0 until the first read
}

func (t *readTxn) Get(ctx context.Context, ns, key string) ([]byte, error) {
	r, err := t.d.get(ctx, t.d.l.dataKey(ns, key), t.rev)
	if err != nil {
		return nil, t.d.errorf("get", err)
	}
	if t.rev == 0 {
		t.rev = r.Header.Revision
	}
	return value(r.Kvs, ns, key)
}

// value returns the value of the one key read, or store.ErrNotFound.
func value(kvs []*mvccpb.KeyValue, ns, key string) ([]byte, error) {
	if len(kvs) == 0 {
		return nil, fmt.Errorf("etcd: get %q in namespace %q: %w", key, ns, store.ErrNotFound)
	}
	if kvs[0].Value == nil {
		return []byte{}, nil
	}
	return kvs[0].Value, nil
}

func (t *readTxn) Put(context.Context, string, string, []byte) error {
	return fmt.Errorf("etcd: put in a read-only transaction: %w", store.ErrReadOnly)
}

func (t *readTxn) Delete(context.Context, string, string) error {
	return fmt.Errorf("etcd: delete in a read-only transaction: %w", store.ErrReadOnly)
}

func (t *readTxn) Scan(ctx context.Context, ns, prefix, after string, limit int) ([]store.KeyValue, bool, error) {
	if limit <= 0 {
		return nil, false, fmt.Errorf("etcd: scan with limit %d", limit)
	}
	from, end, empty := t.d.l.scanRange(ns, prefix, after)
	if empty {
		return nil, false, nil
	}
	kvs, more, rev, err := t.d.scanPage(ctx, from, end, limit, t.rev)
	if err != nil {
		return nil, false, err
	}
	if t.rev == 0 {
		t.rev = rev
	}
	nsp := t.d.l.nsPrefix(ns)
	page := make([]store.KeyValue, len(kvs))
	for i, kv := range kvs {
		page[i] = store.KeyValue{Key: userKey(nsp, string(kv.Key)), Value: nonNil(kv.Value)}
	}
	return page, more, nil
}

func nonNil(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return v
}

func (t *readTxn) Commit(context.Context) error {
	return fmt.Errorf("etcd: commit of a read-only transaction: %w", store.ErrReadOnly)
}

func (t *readTxn) Rollback() error { return nil }

// scanPage reads up to limit keys of [from, end) at revision rev (0: a linearizable read
// now), returning them, whether more follow, and the revision read at. A page too large for
// one response is read again as a smaller one.
func (d *driver) scanPage(ctx context.Context, from, end string, limit int, rev int64) ([]*mvccpb.KeyValue, bool, int64, error) {
	for {
		r, err := d.get(ctx, from, rev, clientv3.WithRange(end), clientv3.WithLimit(int64(limit)))
		if status.Code(err) == codes.ResourceExhausted && limit > 1 {
			limit = max(limit/8, 1)
			continue
		}
		if err != nil {
			return nil, false, 0, d.errorf("scan", err)
		}
		return r.Kvs, r.More, r.Header.Revision, nil
	}
}

// get reads key (with opts) at revision rev, or linearizably now when rev is 0. A read at a
// revision is served by whichever member the client picks without asking the leader
// (serializable): the revision is a snapshot every member holds the same once it has applied
// it, which the read's revision proves. A member that has not applied it yet answers
// ErrFutureRev, and the read is made again, linearizably, which waits until it has.
func (d *driver) get(ctx context.Context, key string, rev int64, opts ...clientv3.OpOption) (*clientv3.GetResponse, error) {
	if rev == 0 {
		return d.cli.Get(leader(ctx), key, opts...)
	}
	opts = append(opts, clientv3.WithRev(rev))
	r, err := d.cli.Get(leader(ctx), key, append(opts, clientv3.WithSerializable())...)
	if errors.Is(rpctypes.Error(err), rpctypes.ErrFutureRev) {
		return d.cli.Get(leader(ctx), key, opts...)
	}
	return r, err
}

// write is a buffered Put (del false; value is a copy of the caller's) or Delete.
type write struct {
	ns, key string
	value   []byte
	del     bool
}

// writeTxn is an Update. Its writes are buffered until Commit, which sends them in one etcd
// transaction; its first read takes the write lock and fixes the revision it reads at.
type writeTxn struct {
	d      *driver
	h      *hold             // the write lock, taken by the first read; nil before
	writes map[string]*write // by etcd key
	bytes  int               // the size of the writes' keys and values
}

func (t *writeTxn) locked(ctx context.Context) error {
	if t.h != nil {
		return nil
	}
	h, err := t.d.lock(ctx)
	if err != nil {
		return err
	}
	t.h = h
	return nil
}

func (t *writeTxn) Get(ctx context.Context, ns, key string) ([]byte, error) {
	k := t.d.l.dataKey(ns, key)
	if w, ok := t.writes[k]; ok {
		if w.del {
			return nil, fmt.Errorf("etcd: get %q in namespace %q: %w", key, ns, store.ErrNotFound)
		}
		return slices.Clone(w.value), nil
	}
	if err := t.locked(ctx); err != nil {
		return nil, err
	}
	r, err := t.d.get(ctx, k, t.h.rev)
	if err != nil {
		return nil, t.d.errorf("get", err)
	}
	return value(r.Kvs, ns, key)
}

func (t *writeTxn) Put(ctx context.Context, ns, key string, v []byte) error {
	return t.buffer(&write{ns: ns, key: key, value: slices.Clone(nonNil(v))})
}

func (t *writeTxn) Delete(ctx context.Context, ns, key string) error {
	return t.buffer(&write{ns: ns, key: key, del: true})
}

// buffer records w, refusing it when the Update's writes would not fit in one request.
func (t *writeTxn) buffer(w *write) error {
	if t.writes == nil {
		t.writes = make(map[string]*write)
	}
	k := t.d.l.dataKey(w.ns, w.key)
	size := t.bytes + len(k) + len(w.value) + opOverhead
	if old, ok := t.writes[k]; ok {
		size -= len(k) + len(old.value) + opOverhead
	}
	if limit := t.d.opts.MaxRequestBytes - requestSlack/2; size > limit {
		return fmt.Errorf("etcd: the Update's writes come to more than %d bytes, which do not fit in one etcd request of max_request_bytes %d (an Update commits in one request; split it, or raise max_request_bytes and the cluster's --max-request-bytes): %w", limit, t.d.opts.MaxRequestBytes, store.ErrTooLarge)
	}
	t.writes[k], t.bytes = w, size
	return nil
}

// opOverhead is about what one put costs a request beyond its key and value.
const opOverhead = 16

func (t *writeTxn) Scan(ctx context.Context, ns, prefix, after string, limit int) ([]store.KeyValue, bool, error) {
	if limit <= 0 {
		return nil, false, fmt.Errorf("etcd: scan with limit %d", limit)
	}
	from, end, empty := t.d.l.scanRange(ns, prefix, after)
	if empty {
		return nil, false, nil
	}
	if err := t.locked(ctx); err != nil {
		return nil, false, err
	}
	nsp := t.d.l.nsPrefix(ns)
	for {
		kvs, more, _, err := t.d.scanPage(ctx, from, end, limit, t.h.rev)
		if err != nil {
			return nil, false, err
		}
		// Up to where the server's page reaches, the page is the server's keys with the
		// buffered writes laid over them.
		reach := end
		if more {
			reach = string(kvs[len(kvs)-1].Key) + "\x00"
		}
		page := make([]store.KeyValue, 0, len(kvs))
		for _, kv := range kvs {
			if _, ok := t.writes[string(kv.Key)]; !ok {
				page = append(page, store.KeyValue{Key: userKey(nsp, string(kv.Key)), Value: nonNil(kv.Value)})
			}
		}
		for k, w := range t.writes {
			if !w.del && k >= from && k < reach {
				page = append(page, store.KeyValue{Key: w.key, Value: slices.Clone(w.value)})
			}
		}
		slices.SortFunc(page, func(a, b store.KeyValue) int { return strings.Compare(a.Key, b.Key) })
		if len(page) > limit {
			return page[:limit], true, nil
		}
		if len(page) > 0 || !more {
			return page, more, nil
		}
		from = reach // every key of the server's page was deleted here: read on
	}
}

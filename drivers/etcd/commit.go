package etcd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/dockyard/dockyard/store"
)

// Commit sends the buffered writes in one etcd transaction, guarded by the lock (see the
// package doc). An Update that only wrote and never read commits without the lock, in one round
// trip, when no writer holds or waits for it; otherwise it queues for the lock like any other.
// It never resends a commit: when the outcome cannot be known, the error wraps
// store.ErrCommitUnknown.
func (t *writeTxn) Commit(ctx context.Context) error {
	if t.h == nil && len(t.writes) == 0 {
		return nil
	}
	if t.h == nil {
		done, err := t.commitBlind(ctx)
		if done || err != nil {
			return err
		}
		if err := t.locked(ctx); err != nil {
			return err
		}
	}
	h := t.h
	t.h = nil
	if len(t.writes) == 0 {
		t.d.unlock(h) // it only read
		return nil
	}
	ops := append(t.ops(), clientv3.OpDelete(h.key))
	r, err := t.d.cli.Txn(leader(ctx)).If(
		clientv3.Compare(clientv3.Value(t.d.l.schema), "=", schemaValue),
		clientv3.Compare(clientv3.CreateRevision(h.key), "=", h.createRev),
		clientv3.Compare(clientv3.ModRevision(t.d.l.commit), "=", h.commitRev),
	).Then(ops...).Else(clientv3.OpGet(t.d.l.schema)).Commit()
	if err != nil {
		t.d.unlock(h)
		return t.d.commitErr(err, len(ops))
	}
	if !r.Succeeded {
		t.d.unlock(h)
		if err := t.d.checkSchema(r.Responses[0].GetResponseRange().Kvs); err != nil {
			return fmt.Errorf("%w; nothing was committed", err)
		}
		return t.d.errorf("commit (refused: nothing was committed)", errLeaseLost)
	}
	return nil
}

// commitBlind commits without the lock if the lock queue is empty. done reports it did;
// false with a nil error means a writer holds or waits for the lock.
func (t *writeTxn) commitBlind(ctx context.Context) (done bool, err error) {
	ops := t.ops()
	r, err := t.d.cli.Txn(leader(ctx)).If(
		clientv3.Compare(clientv3.Value(t.d.l.schema), "=", schemaValue),
		clientv3.Compare(clientv3.CreateRevision(t.d.l.lock), "=", 0).WithPrefix(),
	).Then(ops...).Else(clientv3.OpGet(t.d.l.schema)).Commit()
	if err != nil {
		return false, t.d.commitErr(err, len(ops))
	}
	if !r.Succeeded {
		if err := t.d.checkSchema(r.Responses[0].GetResponseRange().Kvs); err != nil {
			return false, fmt.Errorf("%w; nothing was committed", err)
		}
		return false, nil
	}
	return true, nil
}

// ops returns the transaction's writes, and the rewrite of the commit fence, as etcd
// operations.
func (t *writeTxn) ops() []clientv3.Op {
	ops := make([]clientv3.Op, 0, len(t.writes)+2)
	for k, w := range t.writes {
		if w.del {
			ops = append(ops, clientv3.OpDelete(k))
		} else {
			ops = append(ops, clientv3.OpPut(k, string(w.value)))
		}
	}
	return append(ops, clientv3.OpPut(t.d.l.commit, txid()))
}

// txid returns a random commit identifier, written into the fence by each commit.
func txid() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// commitErr turns the error of a commit request into the driver's: refused (nothing was
// committed) when the cluster or the client certainly did not apply it, otherwise unknown.
func (d *driver) commitErr(err error, ops int) error {
	ee := rpctypes.Error(err)
	switch {
	case errors.Is(ee, rpctypes.ErrTooManyOps):
		return d.errorf(fmt.Sprintf("commit refused, nothing was committed: the Update's %d operations are more than the cluster's --max-txn-ops allows (etcd's default is 128; raise it, or split the Update)", ops), err)
	case errors.Is(ee, rpctypes.ErrRequestTooLarge):
		return d.errorf("commit refused, nothing was committed: the Update is larger than the cluster's --max-request-bytes (etcd's default is 1.5 MiB; a store needs 8 MiB)", fmt.Errorf("%w: %w", store.ErrTooLarge, err))
	case status.Code(err) == codes.ResourceExhausted, status.Code(err) == codes.InvalidArgument,
		errors.Is(ee, rpctypes.ErrPermissionDenied), errors.Is(ee, rpctypes.ErrUserEmpty),
		errors.Is(ee, rpctypes.ErrInvalidAuthToken), errors.Is(ee, rpctypes.ErrAuthOldRevision):
		return d.errorf("commit refused, nothing was committed", err)
	case !sent(err):
		return d.errorf("commit (nothing reached the cluster)", err)
	}
	return fmt.Errorf("etcd: commit (prefix %q): the request failed after it may have reached the cluster, so whether it committed is unknown: %w: %w", d.prefix, store.ErrCommitUnknown, err)
}

// sent reports whether a failed request may have reached the cluster. The client says not when
// it had no connection to send it on.
func sent(err error) bool {
	desc := rpctypes.ErrorDesc(err)
	return !(status.Code(err) == codes.Unavailable && (desc == "there is no address available" || desc == "there is no connection available"))
}

// Rollback ends the transaction, giving the lock back if it was taken.
func (t *writeTxn) Rollback() error {
	t.writes = nil
	if t.h != nil {
		t.d.unlock(t.h)
		t.h = nil
	}
	return nil
}

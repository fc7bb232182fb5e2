package etcdtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// healthKey is the key that WaitHealthy reads; it need not exist.
const healthKey = "dockyard-etcdtest-health"

// callTimeout bounds each request that WaitHealthy and Leader make to one member.
const callTimeout = 2 * time.Second

// runningMembers returns the indices of the running members, or an error if one of them has
// exited by itself since it was started.
func (c *Cluster) runningMembers() ([]int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var running []int
	for i, m := range c.members {
		if m.proc == nil {
			continue
		}
		if m.proc.Exited() {
			return nil, fmt.Errorf("etcdtest: member %d exited by itself (%v); its log:\n%s", i, m.proc.Err(), m.logTail())
		}
		running = append(running, i)
	}
	if len(running) == 0 {
		return nil, errors.New("etcdtest: no member is running")
	}
	return running, nil
}

// eachRunning calls f for every running member, concurrently, with a client of that member
// alone, and returns the results in the order of running.
func (c *Cluster) eachRunning(ctx context.Context, f func(ctx context.Context, cli *clientv3.Client, ep string) error) (running []int, errs []error, err error) {
	running, err = c.runningMembers()
	if err != nil {
		return nil, nil, err
	}
	eps := c.Endpoints()
	errs = make([]error, len(running))
	var wg sync.WaitGroup
	for k, i := range running {
		wg.Go(func() {
			cli, err := c.Client(eps[i])
			if err != nil {
				errs[k] = err
				return
			}
			defer cli.Close()
			cctx, cancel := context.WithTimeout(ctx, callTimeout)
			defer cancel()
			if err := f(cctx, cli, eps[i]); err != nil {
				errs[k] = fmt.Errorf("member %d (%s): %w", i, eps[i], err)
			}
		})
	}
	wg.Wait()
	return running, errs, nil
}

// WaitHealthy waits until every running member answers, all of them name the same leader, and
// a linearizable read through each of them succeeds (so each has caught up with the leader's
// commits as of that read). It fails at once when a member has exited by itself, and when ctx
// ends first.
func (c *Cluster) WaitHealthy(ctx context.Context) error {
	var last error
	for {
		var leaders []uint64
		var mu sync.Mutex
		_, errs, err := c.eachRunning(ctx, func(ctx context.Context, cli *clientv3.Client, ep string) error {
			st, err := cli.Status(ctx, ep)
			if err != nil {
				return err
			}
			if st.Leader == 0 {
				return errors.New("no leader")
			}
			if _, err := cli.Get(ctx, healthKey); err != nil {
				return fmt.Errorf("linearizable read: %w", err)
			}
			mu.Lock()
			leaders = append(leaders, st.Leader)
			mu.Unlock()
			return nil
		})
		if err != nil {
			return err
		}
		last = errors.Join(errs...)
		if last == nil {
			for _, l := range leaders {
				if l != leaders[0] {
					last = fmt.Errorf("the members name different leaders: %x", leaders)
				}
			}
			if last == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("etcdtest: the cluster is not healthy: %w; last: %v", ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Leader returns the index of the member that leads: the running member whose status says it
// is the leader (of the highest term, should two say so). While none does, as during an
// election, it waits, until ctx ends.
func (c *Cluster) Leader(ctx context.Context) (int, error) {
	var last error
	for {
		statuses := make(map[string]*clientv3.StatusResponse)
		var mu sync.Mutex
		running, errs, err := c.eachRunning(ctx, func(ctx context.Context, cli *clientv3.Client, ep string) error {
			st, err := cli.Status(ctx, ep)
			if err != nil {
				return err
			}
			mu.Lock()
			statuses[ep] = st
			mu.Unlock()
			return nil
		})
		if err != nil {
			return -1, err
		}
		leader, term := -1, uint64(0)
		eps := c.Endpoints()
		for _, i := range running {
			st := statuses[eps[i]]
			if st != nil && st.Header != nil && st.Leader == st.Header.MemberId && st.RaftTerm >= term {
				leader, term = i, st.RaftTerm
			}
		}
		if leader >= 0 {
			return leader, nil
		}
		last = errors.Join(errs...)
		select {
		case <-ctx.Done():
			return -1, fmt.Errorf("etcdtest: no member leads: %w; last errors: %v", ctx.Err(), last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

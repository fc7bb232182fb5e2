package main

import (
	"math"
	"math/bits"
	"time"
)

// histogram records latencies in log-linear buckets: 64 sub-buckets per power of two, so a
// percentile is within about 1.6% of the true value, whatever the number of samples. The
// largest sample is kept exactly.
type histogram struct {
	counts [64 * 64]uint64
	n      uint64
	sum    time.Duration
	max    time.Duration
}

const subBits = 6 // 64 sub-buckets

// bucket is the index of the bucket holding d (in nanoseconds).
func bucket(d time.Duration) int {
	v := uint64(max(d, 0))
	if v < 1<<subBits {
		return int(v)
	}
	exp := bits.Len64(v) - subBits - 1 // v >> exp is in [64, 128)
	return (exp+1)<<subBits + int(v>>exp) - 1<<subBits
}

// lowest is the smallest value of bucket b.
func lowest(b int) time.Duration {
	if b < 1<<subBits {
		return time.Duration(b)
	}
	exp := b>>subBits - 1
	return time.Duration((uint64(b&(1<<subBits-1)) + 1<<subBits) << exp)
}

func (h *histogram) record(d time.Duration) {
	b := min(bucket(d), len(h.counts)-1)
	h.counts[b]++
	h.n++
	h.sum += d
	h.max = max(h.max, d)
}

// quantile returns the value at quantile q (0 < q <= 1): the lower bound of the bucket holding
// it, but never more than the largest sample.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = max(rank, 1)
	var seen uint64
	for b, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(lowest(b), h.max)
		}
	}
	return h.max
}

func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.max = max(h.max, o.max)
}

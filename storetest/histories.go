package storetest

import (
	"context"

	"github.com/dockyard/dockyard/storetest/history"
)

// historyCases run the workloads of package history: concurrent random transactions whose
// recorded history must be strictly serializable, lose nothing acknowledged and keep every
// invariant. They are the suite's strongest check of isolation, and the slowest (a few seconds
// each).
var historyCases = []Case{
	{"HistoryIsStrictlySerializable", workload(history.Registers)},
	{"ListAppendHistory", workload(history.ListAppend)},
	{"BankTransfersNoWriteSkew", workload(history.Bank)},
}

func workload(run func(context.Context, history.Target, history.Options) (history.Report, error)) func(T, Harness) {
	return func(t T, h Harness) {
		ctx, s := open(t, h)
		rep, err := run(ctx, history.Fixed(s), history.Options{})
		if err != nil {
			t.Fatalf("%v", err)
		}
		t.Logf("history: %s", rep)
	}
}

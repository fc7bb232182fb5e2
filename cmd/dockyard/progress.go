package main

import (
	"time"

	"github.com/schollz/progressbar/v3"
)

// bar is a progress bar on stderr, or nothing when progress bars are off: its methods do
// nothing on a nil *bar.
type bar struct{ pb *progressbar.ProgressBar }

// newBar returns a bar counting to max (-1: unknown, a spinner), or nil when progress bars are
// off (see app.progressOn).
func (a *app) newBar(max int64, desc string, opts ...progressbar.Option) *bar {
	if !a.progressOn() {
		return nil
	}
	base := []progressbar.Option{
		progressbar.OptionSetWriter(a.stderr),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100 * time.Millisecond),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionSetRenderBlankState(true),
	}
	return &bar{pb: progressbar.NewOptions64(max, append(base, opts...)...)}
}

func (b *bar) add(n int64) {
	if b != nil {
		_ = b.pb.Add64(n)
	}
}

func (b *bar) set(n int64) {
	if b != nil {
		_ = b.pb.Set64(n)
	}
}

func (b *bar) describe(s string) {
	if b != nil {
		b.pb.Describe(s)
	}
}

func (b *bar) finish() {
	if b != nil {
		_ = b.pb.Finish()
		_ = b.pb.Clear()
	}
}

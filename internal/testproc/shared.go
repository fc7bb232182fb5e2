package testproc

import (
	"os"
	"sync"
	"testing"
)

// Shared is the server that the tests of one test process share: started by the first Get and
// stopped by Close, after the tests (see Main). The zero value is ready to use.
type Shared[V any] struct {
	mu     sync.Mutex
	called bool // start has run, or Close has
	v      V
	stop   func() error
	err    error
}

// Get returns what the first call's start returned. start runs once, under a lock (other calls
// wait for it): it returns what the tests use of the server (a connection string, endpoints),
// the server's stop, nil when there is nothing of this process to stop (a server named by the
// environment), and an error when there is no server.
func (s *Shared[V]) Get(start func() (v V, stop func() error, err error)) (V, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.called {
		s.called = true
		s.v, s.stop, s.err = start()
	}
	return s.v, s.err
}

// Close stops the server that start returned, if there is one, and returns the error of its
// stop. From then on, Get returns after and starts nothing.
func (s *Shared[V]) Close(after error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if s.stop != nil {
		err = s.stop()
		s.stop = nil
	}
	var zero V
	s.called, s.v, s.err = true, zero, after
	return err
}

// Main runs the tests of m, then shutdown (which closes the package's Shared), and exits with
// the tests' status: the TestMain of a package whose tests share a server.
func Main(m *testing.M, shutdown func()) {
	code := m.Run()
	shutdown()
	os.Exit(code)
}

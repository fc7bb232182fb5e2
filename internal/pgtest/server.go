package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dockyard/dockyard/internal/testenv"
	"github.com/dockyard/dockyard/internal/testproc"
)

// ErrUnavailable is wrapped by the errors of Start and DSN when this machine cannot run a
// server at all (as opposed to a server that fails).
var ErrUnavailable = errors.New("no PostgreSQL server available")

// dirPrefix starts the name of every throwaway server's temporary directory.
const dirPrefix = "dockyard-pgtest-"

// Timeouts of the server's life cycle.
const (
	readyTimeout = 60 * time.Second // from starting postgres to accepting connections
	stopTimeout  = 30 * time.Second // for a fast or immediate shutdown, before SIGKILL
)

// serverSettings are the postgres -c settings of a throwaway server (see the package doc).
var serverSettings = []string{
	"listen_addresses=127.0.0.1",
	"fsync=off",
	"full_page_writes=off",
	"max_connections=200",
	"shared_buffers=32MB",
	"log_min_messages=warning",
}

// Server is a throwaway PostgreSQL server in a temporary directory.
type Server struct {
	bin    string   // directory holding initdb and postgres
	dir    string   // the temporary directory: data/, the socket, postgres.log
	port   int      // the loopback TCP port
	as     *runAs   // the user the binaries run as; nil for the current one
	unlock func()   // releases the directory's owner lock
	logf   *os.File // postgres.log, the server's stderr and stdout
	mu     sync.Mutex
	proc   *testproc.Process // the running postmaster, nil when stopped
}

// NewServer starts a private throwaway server for t, stopped and removed when t ends. Without
// the binaries, t ends through testenv.Unavailable.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s, err := Start()
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			testenv.Unavailable(t, "PostgreSQL server", err.Error())
		}
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return s
}

// Start creates and starts a throwaway server. The caller must Close it.
func Start() (*Server, error) {
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	as, err := serverUser()
	if err != nil {
		return nil, err
	}
	removeStaleDirs()
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	s := &Server{bin: bin, dir: dir, as: as}
	fail := func(err error) (*Server, error) {
		s.cleanup()
		return nil, err
	}
	if s.unlock, err = testproc.LockOwner(dir); err != nil {
		return fail(fmt.Errorf("pgtest: %w", err))
	}
	if err := as.chown(dir); err != nil {
		return fail(fmt.Errorf("pgtest: %w: %w", ErrUnavailable, err))
	}
	if s.logf, err = os.Create(filepath.Join(dir, "postgres.log")); err != nil {
		return fail(fmt.Errorf("pgtest: %w", err))
	}
	if err := s.initdb(); err != nil {
		return fail(err)
	}
	// A free port can be taken by someone else before postgres binds it: try a few.
	for attempt := 1; ; attempt++ {
		if s.port, err = freePort(); err != nil {
			return fail(fmt.Errorf("pgtest: %w", err))
		}
		err = s.Resume()
		if err == nil {
			return s, nil
		}
		if attempt == 5 || !strings.Contains(err.Error(), "could not bind") {
			return fail(err)
		}
	}
}

// findBinaries returns the directory of initdb and postgres.
func findBinaries() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		dir := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(dir, "postgres")); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Newest major version first: "15" before "9.6", so compare numerically.
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(a)), 64)
		vb, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(b)), 64)
		switch {
		case va > vb:
			return -1
		case va < vb:
			return 1
		}
		return 0
	})
	for _, dir := range dirs {
		_, e1 := os.Stat(filepath.Join(dir, "initdb"))
		_, e2 := os.Stat(filepath.Join(dir, "postgres"))
		if e1 == nil && e2 == nil {
			return dir, nil
		}
	}
	return "", fmt.Errorf("pgtest: %w: initdb and postgres are neither in PATH nor in /usr/lib/postgresql/*/bin (run `make pgtools` as root, or set %s to a server's connection string)", ErrUnavailable, EnvDSN)
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// command returns a command running the named binary of the server as the server's user, in
// the server's directory, with a plain environment.
func (s *Server) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.Dir = s.dir // the server's user may not be able to enter the test's working directory
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LC_ALL=C", "LANG=C", "TZ=UTC", "HOME=" + s.dir}
	s.as.setCredential(cmd)
	return cmd
}

func (s *Server) dataDir() string { return filepath.Join(s.dir, "data") }

func (s *Server) initdb() error {
	cmd := s.command("initdb", "-D", s.dataDir(), "-U", "postgres", "-A", "trust", "-E", "UTF8",
		"--locale=C", "--no-sync", "--no-instructions")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	p, err := testproc.Start(cmd, syscall.SIGKILL)
	if err == nil {
		err = p.Wait()
	}
	if err != nil {
		return fmt.Errorf("pgtest: initdb in %s: %w\n%s", s.dir, err, out.String())
	}
	return nil
}

// DSN returns the key=value connection string of the server's postgres database, as its
// superuser.
func (s *Server) DSN() string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable", s.port)
}

// Port returns the server's TCP port on 127.0.0.1; it stays the same across Stop and Resume.
func (s *Server) Port() int { return s.port }

// PID returns the process ID of the running postmaster, or 0 when it is stopped.
func (s *Server) PID() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return 0
	}
	return s.proc.Pid
}

// Dir returns the server's temporary directory.
func (s *Server) Dir() string { return s.dir }

// Resume starts the stopped server again, on the same port and data, and waits until it
// accepts connections.
func (s *Server) Resume() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc != nil {
		return errors.New("pgtest: Resume of a running server")
	}
	args := []string{"-D", s.dataDir(), "-p", strconv.Itoa(s.port), "-c", "unix_socket_directories=" + s.dir}
	for _, set := range serverSettings {
		args = append(args, "-c", set)
	}
	cmd := s.command("postgres", args...)
	cmd.Stdout, cmd.Stderr = s.logf, s.logf
	// SIGQUIT is an immediate shutdown: the postmaster takes its backends down with it.
	p, err := testproc.Start(cmd, syscall.SIGQUIT)
	if err != nil {
		return fmt.Errorf("pgtest: start postgres: %w", err)
	}
	s.proc = p
	ctx, cancel := context.WithTimeout(context.Background(), readyTimeout)
	defer cancel()
	for {
		cctx, ccancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(cctx, s.DSN())
		ccancel()
		if err == nil {
			_ = conn.Close(context.Background())
			return nil
		}
		select {
		case <-p.Done():
			s.proc = nil
			return fmt.Errorf("pgtest: postgres exited while starting (%v); its log:\n%s", p.Err(), s.logTail())
		case <-ctx.Done():
			s.stopLocked(false)
			return fmt.Errorf("pgtest: postgres did not accept connections within %v (last error: %v); its log:\n%s", readyTimeout, err, s.logTail())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// logTail returns the end of the server's log.
func (s *Server) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "postgres.log"))
	const max = 4000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}

// Stop stops the server, keeping its data: a fast shutdown (clients are disconnected, open
// transactions rolled back, a checkpoint written), or with immediate set an immediate one,
// which is what a crash of the server looks like to its clients and its data. Either is
// followed by SIGKILL if the server has not exited within 30 s.
func (s *Server) Stop(immediate bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopLocked(immediate)
}

func (s *Server) stopLocked(immediate bool) error {
	p := s.proc
	if p == nil {
		return nil
	}
	s.proc = nil
	sig := syscall.SIGINT // fast shutdown
	if immediate {
		sig = syscall.SIGQUIT
	}
	if !p.Stop(sig, stopTimeout) {
		return nil
	}
	return fmt.Errorf("pgtest: postgres did not stop within %v of %v and was killed; its log:\n%s", stopTimeout, sig, s.logTail())
}

// Close stops the server (fast shutdown) and removes its directory.
func (s *Server) Close() error {
	err := s.Stop(false)
	return errors.Join(err, s.cleanup())
}

func (s *Server) cleanup() error {
	if s.logf != nil {
		_ = s.logf.Close()
	}
	if s.unlock != nil {
		s.unlock()
	}
	if err := os.RemoveAll(s.dir); err != nil {
		return fmt.Errorf("pgtest: remove %s: %w", s.dir, err)
	}
	return nil
}

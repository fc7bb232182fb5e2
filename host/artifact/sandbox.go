package artifact

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"time"
)

// Sandbox holds a manifest's limits (docs/manifest.md, "sandbox"). A zero field means the
// transport's default.
type Sandbox struct {
	// MemoryLimit caps each wasm instance's linear memory (wasm only; default 256 MiB, at most
	// MaxMemoryLimit). JSON "memory_limit": bytes, or a string such as "256MiB".
	MemoryLimit ByteSize
	// DiskQuota caps the bytes of files the driver may hold in its data directory (wasm only;
	// default 8 GiB, see wasmhost.WithDiskQuota). JSON "disk_quota": bytes or a size string.
	DiskQuota ByteSize
	// CallTimeout is the deadline of each call into the driver. JSON "call_timeout": a Go
	// duration string such as "30s", from MinCallTimeout to MaxCallTimeout.
	CallTimeout time.Duration
	// Trusted runs a wasm module without a call deadline (wasm only; see wasmhost.WithTrusted).
	// JSON "trusted".
	Trusted bool

	// Interpreter is the absolute path of the program that runs a plugin artifact that is not
	// a program itself (a Node.js bundle: "/usr/bin/node"); "" runs the artifact itself. It is
	// the manifest's top-level "interpreter" member (not a member of "sandbox": it says what the
	// artifact is, not how far it reaches), kept here because it travels with the sandbox to
	// the transport, which grants it execute on the interpreter. Plugin only.
	Interpreter string

	// The plugin transport's containment (see docs/manifest.md for what each platform enforces).
	// Env is what the plugin's environment holds besides go-plugin's variables: "NAME=value",
	// or "NAME" for the host's value of NAME, if set. JSON "env".
	Env []string
	// Read and Write are absolute paths beneath which the plugin may read, or read and write,
	// besides its data path (the DSN's). JSON "read", "write".
	Read, Write []string
	// Connect lists the "host:port" endpoints the driver may open TCP connections to, checked
	// by EndpointPort; none by default. Both transports: a wasm module may connect to exactly
	// these endpoints, named exactly so, the host resolving the names (wasmhost.WithConnect);
	// a plugin is held to their ports, where the operating system can (Landlock restricts TCP
	// by port, see pluginhost.WithConnect). JSON "connect".
	Connect []string
	// RequireContainment refuses to start the plugin on a host that cannot confine it
	// entirely. JSON "require_containment".
	RequireContainment bool
	// The plugin's resource limits (pluginhost.Limits; zero is the default): JSON
	// "max_memory" (bytes or a size string), "max_open_files", "max_processes" and
	// "max_cpu_time" (a duration string).
	MaxMemory                  ByteSize
	MaxOpenFiles, MaxProcesses int64
	MaxCPUTime                 time.Duration
	// The bounds of one Tx.Scan (pdk.WithMaxScanEntries, WithMaxScanBytes, WithScanTimeout;
	// zero is the default): JSON "max_scan_entries", "max_scan_bytes" (bytes or a size
	// string) and "scan_timeout" (a duration string). Both transports.
	MaxScanEntries int64
	MaxScanBytes   ByteSize
	ScanTimeout    time.Duration
}

// MarshalJSON writes the sandbox in the manifest's format, leaving out fields at their
// defaults, so that a Manifest marshals to a manifest that ReadManifest accepts.
func (s Sandbox) MarshalJSON() ([]byte, error) {
	var out struct {
		MemoryLimit        string   `json:"memory_limit,omitempty"`
		DiskQuota          string   `json:"disk_quota,omitempty"`
		CallTimeout        string   `json:"call_timeout,omitempty"`
		Trusted            bool     `json:"trusted,omitempty"`
		Env                []string `json:"env,omitempty"`
		Read               []string `json:"read,omitempty"`
		Write              []string `json:"write,omitempty"`
		Connect            []string `json:"connect,omitempty"`
		RequireContainment bool     `json:"require_containment,omitempty"`
		MaxMemory          string   `json:"max_memory,omitempty"`
		MaxOpenFiles       int64    `json:"max_open_files,omitempty"`
		MaxProcesses       int64    `json:"max_processes,omitempty"`
		MaxCPUTime         string   `json:"max_cpu_time,omitempty"`
		MaxScanEntries     int64    `json:"max_scan_entries,omitempty"`
		MaxScanBytes       string   `json:"max_scan_bytes,omitempty"`
		ScanTimeout        string   `json:"scan_timeout,omitempty"`
	}
	if s.MemoryLimit != 0 {
		out.MemoryLimit = s.MemoryLimit.String()
	}
	if s.CallTimeout != 0 {
		out.CallTimeout = s.CallTimeout.String()
	}
	if s.DiskQuota != 0 {
		out.DiskQuota = s.DiskQuota.String()
	}
	out.Trusted = s.Trusted
	out.Env, out.Read, out.Write, out.Connect = s.Env, s.Read, s.Write, s.Connect
	out.RequireContainment = s.RequireContainment
	if s.MaxMemory != 0 {
		out.MaxMemory = s.MaxMemory.String()
	}
	out.MaxOpenFiles, out.MaxProcesses = s.MaxOpenFiles, s.MaxProcesses
	if s.MaxCPUTime != 0 {
		out.MaxCPUTime = s.MaxCPUTime.String()
	}
	out.MaxScanEntries = s.MaxScanEntries
	if s.MaxScanBytes != 0 {
		out.MaxScanBytes = s.MaxScanBytes.String()
	}
	if s.ScanTimeout != 0 {
		out.ScanTimeout = s.ScanTimeout.String()
	}
	return json.Marshal(out)
}

// ByteSize is a number of bytes. In a manifest it is a JSON integer (bytes) or a string: an
// integer with an optional binary unit, "B", "KiB", "MiB" or "GiB", optionally separated by one
// space ("256MiB", "64 KiB", "1048576"). Decimal units (KB, MB, GB) are refused: they are
// ambiguous, and a wasm memory is counted in 64 KiB pages anyway.
type ByteSize uint64

// Binary size units.
const (
	KiB ByteSize = 1 << 10
	MiB ByteSize = 1 << 20
	GiB ByteSize = 1 << 30
)

var sizeUnits = map[string]ByteSize{"": 1, "B": 1, "KiB": KiB, "MiB": MiB, "GiB": GiB}

var sizeRE = regexp.MustCompile(`^([0-9]+) ?([A-Za-z]*)$`)

// ParseByteSize parses a size string as a manifest's memory_limit does: "256MiB", "64 KiB",
// "1048576".
func ParseByteSize(s string) (ByteSize, error) {
	if len(s) > 0 && s[0] == '-' {
		return 0, errors.New("must not be negative")
	}
	m := sizeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%q is not a size: want bytes, or a number with a unit B, KiB, MiB or GiB, e.g. \"256MiB\"", s)
	}
	unit, ok := sizeUnits[m[2]]
	if !ok {
		return 0, fmt.Errorf("%q: unknown unit %q (want B, KiB, MiB or GiB)", s, m[2])
	}
	n, err := strconv.ParseUint(m[1], 10, 64)
	if err != nil || n > (1<<64-1)/uint64(unit) {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return ByteSize(n) * unit, nil
}

// String formats the size in the largest binary unit that divides it: "256MiB", "1000B".
func (b ByteSize) String() string {
	for _, u := range []struct {
		name string
		size ByteSize
	}{{"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB}} {
		if b >= u.size && b%u.size == 0 {
			return strconv.FormatUint(uint64(b/u.size), 10) + u.name
		}
	}
	return strconv.FormatUint(uint64(b), 10) + "B"
}

// EndpointPort checks a sandbox.connect entry, "host:port", and returns its port: the part of
// the endpoint the operating system can enforce (Landlock restricts TCP by port).
func EndpointPort(ep string) (uint16, error) {
	_, ps, err := net.SplitHostPort(ep)
	if err != nil {
		return 0, errors.New("want host:port, such as \"db.internal:5432\"")
	}
	port, err := strconv.ParseUint(ps, 10, 16)
	if err != nil || port == 0 {
		return 0, fmt.Errorf("port %q is not a number from 1 to 65535", ps)
	}
	return uint16(port), nil
}

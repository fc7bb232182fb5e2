//go:build linux || darwin

package wasmhost

import (
	"github.com/tetratelabs/wazero/experimental"
	"golang.org/x/sys/unix"
)

// mmapMemory backs each instance's linear memory with one anonymous mapping of its largest
// size, reserved at instantiation and touched as the guest grows into it. wazero's own memory
// grows by append: every memory.grow past the capacity copies the whole memory into a new Go
// slice and leaves the old one to the garbage collector, so a guest growing page by page to a
// 256 MiB cap cost the host 1.1 GiB of RSS (4.2 GiB for a 1 GiB cap). Here growing never
// copies: the host's memory for an instance is the pages the guest has touched, at most its
// cap, and the address space of the cap (virtual, not backed until touched: MAP_NORESERVE).
// It is unmapped when the instance is closed, which the transport does for every instance it
// lets go, a trapped one included.
var mmapMemory = experimental.MemoryAllocatorFunc(func(_, max uint64) experimental.LinearMemory {
	if max == 0 {
		return &mapped{}
	}
	b, err := unix.Mmap(-1, 0, int(max), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return &mapped{} // every Reallocate fails: the instance cannot start
	}
	return &mapped{buf: b}
})

// mapped is one instance's linear memory.
type mapped struct{ buf []byte }

// Reallocate returns the first size bytes of the mapping, or nil past it.
func (m *mapped) Reallocate(size uint64) []byte {
	if size > uint64(len(m.buf)) {
		return nil
	}
	return m.buf[:size:size]
}

func (m *mapped) Free() {
	if m.buf != nil {
		_ = unix.Munmap(m.buf)
		m.buf = nil
	}
}

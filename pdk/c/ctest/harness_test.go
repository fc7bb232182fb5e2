package ctest

import (
	"context"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

// rawGuest is a module instance driven through its exports directly, with no ABI client in
// between: the tests choose every byte of every request and see every byte of the response.
type rawGuest struct {
	t            testing.TB
	mod          api.Module
	buffer, call api.Function
}

func newRawGuest(t testing.TB, wasm []byte) *rawGuest {
	t.Helper()
	ctx := context.Background()
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithMemoryLimitPages(4096)) // 256 MiB
	t.Cleanup(func() { rt.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, rt)
	mod, err := rt.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithName("").WithStartFunctions("_initialize"))
	if err != nil {
		t.Fatalf("instantiate: %v", err)
	}
	g := &rawGuest{t: t, mod: mod, buffer: mod.ExportedFunction("dockyard_buffer"), call: mod.ExportedFunction("dockyard_call")}
	if g.buffer == nil || g.call == nil {
		t.Fatal("the module does not export dockyard_buffer and dockyard_call")
	}
	return g
}

// bufferFor calls dockyard_buffer(n) and returns the pointer, checked to lie in memory.
func (g *rawGuest) bufferFor(n uint32) uint32 {
	g.t.Helper()
	res, err := g.buffer.Call(context.Background(), api.EncodeU32(n))
	if err != nil {
		g.t.Fatalf("dockyard_buffer(%d): %v", n, err)
	}
	ptr := api.DecodeU32(res[0])
	if uint64(ptr)+uint64(n) > uint64(g.mod.Memory().Size()) {
		g.t.Fatalf("dockyard_buffer(%d) = %d: past the %d-byte memory", n, ptr, g.mod.Memory().Size())
	}
	return ptr
}

// write puts req at ptr in guest memory.
func (g *rawGuest) write(ptr uint32, req []byte) {
	g.t.Helper()
	if !g.mod.Memory().Write(ptr, req) {
		g.t.Fatalf("write %d bytes at %d: out of range", len(req), ptr)
	}
}

// callRaw calls dockyard_call(n) and returns the response's place and a copy of it.
func (g *rawGuest) callRaw(n uint32) (ptr, size uint32, resp []byte) {
	g.t.Helper()
	res, err := g.call.Call(context.Background(), api.EncodeU32(n))
	if err != nil {
		g.t.Fatalf("dockyard_call(%d): %v", n, err)
	}
	ptr, size = uint32(res[0]>>32), uint32(res[0])
	b, ok := g.mod.Memory().Read(ptr, size)
	if !ok {
		g.t.Fatalf("dockyard_call(%d) answered [%d,+%d): past the %d-byte memory", n, ptr, size, g.mod.Memory().Size())
	}
	return ptr, size, append([]byte(nil), b...)
}

// roundTrip is one crossing as the binding describes it: dockyard_buffer, the request written
// into the buffer, dockyard_call.
func (g *rawGuest) roundTrip(req []byte) []byte {
	g.t.Helper()
	ptr := g.bufferFor(uint32(len(req)))
	g.write(ptr, req)
	_, _, resp := g.callRaw(uint32(len(req)))
	return resp
}

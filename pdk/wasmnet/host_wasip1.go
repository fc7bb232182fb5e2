//go:build wasip1

package wasmnet

import (
	"runtime"
	"unsafe"
)

// The functions of the host's network (internal/wasmbinding, ImportNet); the names are the
// constants' (host_test.go checks them).

//go:wasmimport dockyard_net connect
func netConnect(addr unsafe.Pointer, addrLen uint32, timeoutNS int64) int32

//go:wasmimport dockyard_net read
func netRead(h int32, buf unsafe.Pointer, n uint32, timeoutNS int64) int32

//go:wasmimport dockyard_net write
func netWrite(h int32, buf unsafe.Pointer, n uint32, timeoutNS int64) int32

//go:wasmimport dockyard_net close
func netClose(h int32) int32

//go:wasmimport dockyard_net last_error
func netLastError(buf unsafe.Pointer, n uint32) int32

func hostConnect(addr string, timeoutNS int64) int32 {
	b := []byte(addr)
	r := netConnect(unsafe.Pointer(unsafe.SliceData(b)), uint32(len(b)), timeoutNS)
	runtime.KeepAlive(b)
	return r
}

func hostRead(h int32, p []byte, timeoutNS int64) int32 {
	r := netRead(h, unsafe.Pointer(unsafe.SliceData(p)), uint32(len(p)), timeoutNS)
	runtime.KeepAlive(p)
	return r
}

func hostWrite(h int32, p []byte, timeoutNS int64) int32 {
	r := netWrite(h, unsafe.Pointer(unsafe.SliceData(p)), uint32(len(p)), timeoutNS)
	runtime.KeepAlive(p)
	return r
}

func hostClose(h int32) int32 { return netClose(h) }

// hostLastError is the host's message for the last error of a network function.
func hostLastError() string {
	b := make([]byte, 512)
	n := netLastError(unsafe.Pointer(unsafe.SliceData(b)), uint32(len(b)))
	if n > int32(len(b)) {
		b = make([]byte, n)
		n = netLastError(unsafe.Pointer(unsafe.SliceData(b)), uint32(len(b)))
	}
	if n <= 0 {
		return ""
	}
	return string(b[:min(int(n), len(b))])
}

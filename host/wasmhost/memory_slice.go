//go:build !(linux || darwin)

package wasmhost

import "github.com/tetratelabs/wazero/experimental"

// mmapMemory: elsewhere wazero's own memory, which grows by copying.
var mmapMemory experimental.MemoryAllocator

package wasmhost

// A minimal WebAssembly encoder for hand-made hostile modules: enough to declare a memory and a
// few exported functions whose bodies are raw instructions.

// Function types of the generated modules.
const (
	typeVoid   = 0 // () -> ()
	typeBuffer = 1 // (i32) -> i32
	typeCall   = 2 // (i32) -> i64
	typeResult = 3 // () -> i32
)

type genFunc struct {
	name string // export name
	typ  int
	body []byte // instructions, without the final end

	// locals: the body's local declarations, each two bytes: a count under 128 and a value
	// type; nil for none.
	locals []byte
}

type genModule struct {
	memPages      uint32
	noMemory      bool
	importForeign bool   // import env.f, which the binding forbids
	importWASI    bool   // import wasi_snapshot_preview1.sched_yield, function 0 (or 1)
	wasiName      string // with importWASI: import this function instead, of type wasiType
	wasiType      int
	table         bool // a table holding every defined function in order, by an element segment
	names         bool // a "name" section naming each defined function by its export name
	funcs         []genFunc
	data          []byte // placed at dataAt in memory
	hasStart      bool   // a start section naming the first function
}

// dataAt is where genModule.data lies in memory.
const dataAt = 2048

func uleb(v uint64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func sleb(v int64) []byte {
	var b []byte
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func vec(items ...[]byte) []byte {
	b := uleb(uint64(len(items)))
	for _, it := range items {
		b = append(b, it...)
	}
	return b
}

func name(s string) []byte { return append(uleb(uint64(len(s))), s...) }

func section(id byte, content []byte) []byte {
	return append(append([]byte{id}, uleb(uint64(len(content)))...), content...)
}

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// Instructions.
func i32c(v int32) []byte { return cat([]byte{0x41}, sleb(int64(v))) }
func i64c(v int64) []byte { return cat([]byte{0x42}, sleb(v)) }

var (
	insUnreachable = []byte{0x00}
	insLocal0      = []byte{0x20, 0x00}
	insI32Eq       = []byte{0x46}
	insIf          = []byte{0x04, 0x40}
	insEnd         = []byte{0x0b}
	insLoopForever = []byte{0x03, 0x40, 0x0c, 0x00, 0x0b} // loop br 0 end
	insI64ExtendU  = []byte{0xad}                         // i64.extend_i32_u
	insI64Or       = []byte{0x84}
)

// when runs then if the first parameter equals n.
func when(n int32, then ...[]byte) []byte {
	return cat(insLocal0, i32c(n), insI32Eq, insIf, cat(then...), insEnd)
}

func (g genModule) bytes() []byte {
	types := vec(
		[]byte{0x60, 0x00, 0x00},
		[]byte{0x60, 0x01, 0x7f, 0x01, 0x7f},
		[]byte{0x60, 0x01, 0x7f, 0x01, 0x7e},
		[]byte{0x60, 0x00, 0x01, 0x7f},
	)
	out := cat([]byte("\x00asm"), []byte{1, 0, 0, 0}, section(1, types))
	var imports [][]byte
	if g.importForeign {
		imports = append(imports, cat(name("env"), name("f"), []byte{0x00}, uleb(typeVoid)))
	}
	if g.importWASI {
		fn, typ := "sched_yield", typeResult
		if g.wasiName != "" {
			fn, typ = g.wasiName, g.wasiType
		}
		imports = append(imports, cat(name("wasi_snapshot_preview1"), name(fn), []byte{0x00}, uleb(uint64(typ))))
	}
	nImports := len(imports)
	if nImports > 0 {
		out = append(out, section(2, vec(imports...))...)
	}
	var fidx, exports, bodies, elems, names [][]byte
	for i, f := range g.funcs {
		fidx = append(fidx, uleb(uint64(f.typ)))
		exports = append(exports, cat(name(f.name), []byte{0x00}, uleb(uint64(nImports+i))))
		body := cat(uleb(uint64(len(f.locals)/2)), f.locals, f.body, insEnd)
		bodies = append(bodies, cat(uleb(uint64(len(body))), body))
		elems = append(elems, uleb(uint64(nImports+i)))
		names = append(names, cat(uleb(uint64(nImports+i)), name(f.name)))
	}
	out = append(out, section(3, vec(fidx...))...)
	if g.table {
		out = append(out, section(4, vec(cat([]byte{0x70, 0x00}, uleb(uint64(len(g.funcs))))))...)
	}
	if !g.noMemory {
		out = append(out, section(5, vec(cat([]byte{0x00}, uleb(uint64(g.memPages)))))...)
		exports = append(exports, cat(name("memory"), []byte{0x02}, uleb(0)))
	}
	out = append(out, section(7, vec(exports...))...)
	if g.hasStart {
		out = append(out, section(8, uleb(uint64(nImports)))...)
	}
	if g.table {
		out = append(out, section(9, vec(cat([]byte{0x00}, i32c(0), insEnd, vec(elems...))))...)
	}
	out = append(out, section(10, vec(bodies...))...)
	if g.data != nil {
		seg := cat([]byte{0x00}, i32c(dataAt), insEnd, uleb(uint64(len(g.data))), g.data)
		out = append(out, section(11, vec(seg))...)
	}
	if g.names {
		out = append(out, section(0, cat(name("name"), []byte{0x01}, uleb(uint64(len(vec(names...)))), vec(names...)))...)
	}
	return out
}

// echo is a dockyard_call body answering the request itself: (1024 << 32) | len.
var echo = cat(i64c(1024<<32), insLocal0, insI64ExtendU, insI64Or)

// answer returns a module whose dockyard_call always answers with frame.
func answer(frame []byte) genModule {
	g := binding(1, nil, i64c(dataAt<<32|int64(len(frame))))
	g.data = frame
	return g
}

// binding returns a module implementing the binding's exports with the given bodies of
// dockyard_buffer and dockyard_call; nil bodies are well-behaved defaults: the buffer is at
// 1024 and the response echoes the request.
func binding(memPages uint32, buffer, call []byte) genModule {
	if buffer == nil {
		buffer = i32c(1024)
	}
	if call == nil {
		call = echo
	}
	return genModule{memPages: memPages, funcs: []genFunc{
		{name: "_initialize", typ: typeVoid},
		{name: "dockyard_buffer", typ: typeBuffer, body: buffer},
		{name: "dockyard_call", typ: typeCall, body: call},
	}}
}

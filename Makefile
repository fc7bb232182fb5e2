# Dockyard Store. Set-up is two commands: `make demo` and `make test` (see README.md).
GO ?= go

.PHONY: demo test deps check bench wasm cwasm plugins tools

## demo: the tour (examples/tour). It builds the driver artifacts (wasm modules in Go, and in C
## when clang is there; plugin binaries), the taskstore example and the dockyard CLI, puts the
## artifacts with their manifests in ./data/drivers, and runs the conformance suite and the
## unchanged taskstore binary (which loads them through DOCKYARD_DRIVERS) on every driver,
## the embedded default sqlite among them, printing a table; the etcd rows run on a 3-member
## cluster of the etcd server that etcdtools builds. Needs nothing but Go.
demo: wasm plugins etcdtools
	@$(MAKE) --no-print-directory cwasm
	$(GO) build -o bin/taskstore ./examples/taskstore
	$(GO) build -o bin/dockyard ./cmd/dockyard
	$(GO) run ./examples/tour -bin bin -drivers data/drivers -data data/tour

## test: the system packages (deps), the checks (check), the driver artifacts (wasm modules in
## Go and C, plugin binaries), and the whole suite under the race detector.
test: deps check wasm cwasm plugins
	$(GO) test -race -count=1 -timeout 25m ./...

## deps: what the tests need besides Go, installed when missing (as root, with apt-get): the C
## toolchain for wasm32-wasi (tools), the PostgreSQL server programs (pgtools) and the etcd
## server (etcdtools).
deps: tools pgtools etcdtools nodedeps

## check: formatting, go vet, staticcheck (a tool of go.mod: `go tool staticcheck`), go.mod and
## go.sum tidy, and cross-builds. The module's packages build on Windows, macOS and FreeBSD too
## (host/pluginhost is Unix-only: on Windows it is empty and registers no transport); its tests
## compile on every Unix; the guest side builds for wasip1.
CROSS_BUILD = windows/amd64 darwin/arm64 freebsd/amd64 linux/arm64
CROSS_VET = darwin/arm64 linux/arm64
check:
	@bad=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$bad" ]; then echo "gofmt would change: $$bad"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }
	@for t in $(CROSS_BUILD); do echo "GOOS=$${t%/*} GOARCH=$${t#*/} go build ./..."; \
		GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) build ./... || exit 1; done
	@for t in $(CROSS_VET); do echo "GOOS=$${t%/*} GOARCH=$${t#*/} go vet ./..."; \
		GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) vet ./... || exit 1; done
	GOOS=wasip1 GOARCH=wasm $(GO) vet ./pdk/wasmguest $(addprefix ./plugins/,$(WASM_PLUGINS))

## bench: benchmarks, printed as ratios against baselines measured in the same run. The whole
## set runs three times over, so a subject and its baseline alternate instead of one meeting
## a quieter disk than the other; benchratio takes the median of the three.
bench:
	$(GO) test -c -o bin/bench.test ./bench/
	cd bench && for i in 1 2 3; do ../bin/bench.test -test.run '^$$' -test.bench . -test.benchmem; done | tee ../.bench.out
	$(GO) run ./internal/benchratio < .bench.out

## The artifacts are built by internal/artifactbuild (its cmd/artifacts), the one home of their
## build flags, which the tests build with too; its cache makes a rebuild of unchanged sources
## a copy.
ARTIFACTS = $(GO) run ./internal/artifactbuild/cmd/artifacts -o bin

## wasm: the driver modules (plugins/*) as WebAssembly reactors, for host/wasmhost, in bin/wasm/.
## Tests do not need this: they build what they load through internal/artifactbuild.
WASM_PLUGINS = inmem buntdb postgres
wasm:
	$(ARTIFACTS) $(addprefix wasm:,$(WASM_PLUGINS))

## plugins: the driver artifacts that ship as go-plugin binaries (plugins/*, built for this
## machine), for host/pluginhost, in bin/plugins/. Tests do not need this: they build what they
## start through internal/artifactbuild.BuildPlugin.
PLUGINS = sqlite inmem buntdb postgres etcd
plugins:
	$(ARTIFACTS) $(addprefix plugin:,$(PLUGINS))

## cwasm: the C driver modules (plugins/cinmem, on the C driver kit pdk/c) as WebAssembly
## reactors, in bin/wasm/, with artifactbuild.CFlags. Without the C toolchain it prints a notice
## and builds nothing (under CI=true it fails). Tests do not need this: they build what they
## load through internal/artifactbuild.BuildC, with the same flags.
CLANG ?= clang
CWASM_PLUGINS = cinmem
cwasm:
	@if ! $(C_PROBE_WASM); then \
		echo "!!!!!! cwasm: $(CLANG) cannot build wasm32-wasi reactors: run 'make tools' (as root) !!!!!!"; \
		[ "$$CI" != true ] || exit 1; exit 0; \
	fi; \
	CLANG=$(CLANG) $(ARTIFACTS) $(addprefix c:,$(CWASM_PLUGINS))

## tools: what the C driver kit's build and tests need besides Go: clang and wasm-ld for
## wasm32-wasi, Debian's wasi-libc sysroot (/usr/include/wasm32-wasi, /usr/lib/wasm32-wasi, found
## by clang without --sysroot) and the wasm32 compiler-rt builtins, plus the native libFuzzer
## and sanitizer runtimes of the C fuzz test. When a probe build fails, they are installed with
## apt-get if this runs as root where apt-get exists; otherwise a loud notice is printed and the
## C tests skip loudly (or fail, under CI=true).
C_PACKAGES = clang lld wasi-libc libclang-rt-14-dev-wasm32 libclang-rt-14-dev
C_PROBE_WASM = printf '\#include <stdlib.h>\nint probe(int n) { return (int)(long)malloc((size_t)n); }\n' | \
	$(CLANG) --target=wasm32-wasi -mexec-model=reactor -O2 -x c -o /dev/null - >/dev/null 2>&1
C_PROBE_FUZZ = printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { (void)d; (void)n; return 0; }\n' | \
	$(CLANG) -fsanitize=fuzzer,address,undefined -x c -o /dev/null - >/dev/null 2>&1
tools:
	@if $(C_PROBE_WASM) && $(C_PROBE_FUZZ); then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "tools: installing $(C_PACKAGES)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y $(C_PACKAGES) || { apt-get update && apt-get install -y $(C_PACKAGES); }; \
	fi; \
	if ! { $(C_PROBE_WASM) && $(C_PROBE_FUZZ); }; then \
		echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
		echo "!!! tools: $(CLANG) cannot build wasm32-wasi reactors or libFuzzer targets, and installing"; \
		echo "!!! them here failed or was not possible (it needs root and apt-get): $(C_PACKAGES)"; \
		echo "!!! The C driver kit's tests (pdk/c/ctest) will SKIP, or FAIL under CI=true."; \
		echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	fi

## pgtools: what the PostgreSQL tests need besides Go: a PostgreSQL server's programs (initdb,
## postgres), from which internal/pgtest starts a throwaway server in a temporary directory for
## each test process. When initdb is neither in PATH nor in /usr/lib/postgresql/*/bin, Debian's
## postgresql package is installed with apt-get if this runs as root where apt-get exists;
## otherwise a loud notice is printed and the PostgreSQL tests skip loudly (or fail, under
## CI=true). With DOCKYARD_TEST_POSTGRES set to a server's connection string the tests use that
## server instead, and nothing is installed.
.PHONY: pgtools
PG_PACKAGES = postgresql
PG_PROBE = { command -v initdb || ls /usr/lib/postgresql/*/bin/initdb; } >/dev/null 2>&1
pgtools:
	@if [ -n "$$DOCKYARD_TEST_POSTGRES" ] || $(PG_PROBE); then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "pgtools: installing $(PG_PACKAGES)"; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y $(PG_PACKAGES) || { apt-get update && apt-get install -y $(PG_PACKAGES); }; \
	fi; \
	if ! $(PG_PROBE); then \
		echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
		echo "!!! pgtools: no PostgreSQL server programs (initdb, postgres) in PATH or in"; \
		echo "!!! /usr/lib/postgresql/*/bin, and installing them here failed or was not possible (it"; \
		echo "!!! needs root and apt-get): $(PG_PACKAGES). Or set DOCKYARD_TEST_POSTGRES to a server."; \
		echo "!!! The PostgreSQL tests (drivers/postgres, internal/pgtest, bench) will SKIP, or FAIL under CI=true."; \
		echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	fi

## etcdtools: what the etcd tests need besides Go: the etcd server, built from its Go module
## (go.etcd.io/etcd/server/v3, the version pinned by tools/etcd/go.mod, a module of its own so
## that the server's dependencies stay out of Dockyard's) into bin/etcd, which internal/etcdtest
## finds there; it starts throwaway clusters from it, in temporary directories (under /dev/shm
## when it has room), for each test process. Needs nothing but Go; rebuilt when tools/etcd
## changes. (Debian's etcd-server package is etcd 3.4, whose transactions are several times
## slower than 3.7's: see tools/etcd/main.go.) With DOCKYARD_TEST_ETCD set to a cluster's client
## endpoints the tests use that cluster instead.
.PHONY: etcdtools
etcdtools: bin/etcd
bin/etcd: tools/etcd/main.go tools/etcd/go.mod tools/etcd/go.sum
	$(GO) build -C tools/etcd -o $(CURDIR)/bin/etcd .

## nodedeps: the npm dependencies of plugins/nodeinmem, the Node.js plugin written from
## docs/abi.md, as its package-lock.json pins them (npm ci from the npm registry), when
## node_modules is missing or older than the lock. Without Node.js and npm it prints a notice
## and installs nothing (the plugin's tests then skip, loudly; under CI=true they fail).
.PHONY: nodedeps
NODE_PLUGIN = plugins/nodeinmem
nodedeps:
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(NODE_PLUGIN)/node_modules/.package-lock.json; \
	else echo "!!!!!! nodedeps: no npm (Node.js) on this machine: the Node.js plugin's tests will skip !!!!!!"; fi
$(NODE_PLUGIN)/node_modules/.package-lock.json: $(NODE_PLUGIN)/package.json $(NODE_PLUGIN)/package-lock.json
	cd $(NODE_PLUGIN) && npm ci --no-audit --no-fund
	touch $@

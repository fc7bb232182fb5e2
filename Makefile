# Dockyard Store. Set-up is two commands: `make demo` and `make test` (see README.md).
GO ?= go

.PHONY: demo test check bench wasm

## demo: run the taskstore example on the embedded default (a sqlite file under ./data/).
demo:
	$(GO) run ./examples/taskstore -dsn ./data/taskstore.db

## test: formatting, vet, the driver modules, and the whole suite under the race detector.
test: check wasm
	$(GO) test -race -count=1 -timeout 25m ./...

check:
	@bad=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$bad" ]; then echo "gofmt would change: $$bad"; exit 1; fi
	$(GO) vet ./...

## bench: benchmarks, printed as ratios against baselines measured in the same run. The whole
## set runs three times over, so a subject and its baseline alternate instead of one meeting
## a quieter disk than the other; benchratio takes the median of the three.
bench:
	$(GO) test -c -o bin/bench.test ./bench/
	cd bench && for i in 1 2 3; do ../bin/bench.test -test.run '^$$' -test.bench . -test.benchmem; done | tee ../.bench.out
	$(GO) run ./internal/benchratio < .bench.out

## wasm: the driver modules (plugins/*) as WebAssembly reactors, for host/wasm, in bin/wasm/.
## Tests do not need this: they build what they load through internal/wasmbuild.
WASM_PLUGINS = inmem buntdb
wasm:
	@mkdir -p bin/wasm
	for p in $(WASM_PLUGINS); do \
		GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -trimpath -o bin/wasm/$$p.wasm ./plugins/$$p || exit 1; \
	done

# mlxk — build, test and measure the tool family.
# Everything runs from a clean checkout with Go 1.26; `make test` is what CI runs.

export GOEXPERIMENT ?= simd
export GOFLAGS ?= -buildvcs=false

BIN      := bin
BINARIES := mlxk-list mlxk-health mlxk-pull mlxk-push mlxk-clone mlxk-run mlxk-serve
MODULES  := shared $(BINARIES) testscripts
PKGS     := $(addsuffix /...,$(addprefix ./,$(MODULES)))

.PHONY: goldens all build test test-unprivileged vet fmt-check fuzz demo bench bench-pull bench-tokenizer bench-engine bench-serve clean

all: build

build:
	@mkdir -p $(BIN)
	go build -o $(BIN)/ ./shared/cmd/mlxk $(addprefix ./,$(BINARIES))

## test: formatting, vet, unit tests and the testscript end-to-end specs.
test: fmt-check vet
	go test -count=1 $(PKGS)
	@$(MAKE) --no-print-directory test-unprivileged

## test-unprivileged: as root, also run the specs that need an ordinary user
## (unreadable folders) as nobody; a no-op for other users, who ran them in `test`.
test-unprivileged:
	@if [ "$$(id -u)" = 0 ] && command -v setpriv >/dev/null; then \
		tmp=$$(mktemp -d) && mkdir -p $$tmp/testscripts $$tmp/docs $$tmp/home && \
		go test -c -o $$tmp/testscripts/ts.test ./testscripts && \
		cp -r testscripts/testdata $$tmp/testscripts/ && cp docs/json-api-schema.json $$tmp/docs/ && \
		chmod -R a+rwX $$tmp && \
		(cd $$tmp/testscripts && setpriv --reuid=65534 --regid=65534 --clear-groups \
			env HOME=$$tmp/home TMPDIR=$$tmp/home PATH=/usr/bin:/bin \
			./ts.test -test.run 'TestScripts/health_unreadable' -test.v >$$tmp/out.txt 2>&1); rc=$$?; \
		grep -E 'health_unreadable|^(ok|PASS|FAIL)' $$tmp/out.txt | grep -v '=== ' ; \
		[ $$rc = 0 ] || cat $$tmp/out.txt; rm -rf $$tmp; exit $$rc; \
	fi

## test-live: the live suite (docs/live-tests.md) over a real cache, MLXK_LIVE_HF_HOME or else
## HF_HOME, which it only reads; one model at a time. Records: bin/live-report.jsonl, table: bin/live-report.md.
.PHONY: test-live test-live-smoke
test-live:
	@cache="$${MLXK_LIVE_HF_HOME:-$$HF_HOME}"; \
	if [ -z "$$cache" ]; then echo "test-live: set MLXK_LIVE_HF_HOME (or HF_HOME) to the cache to test"; exit 2; fi; \
	cache="$$(cd "$$cache" && pwd)" || exit 2; \
	mkdir -p $(BIN) && rm -f $(BIN)/live-report.jsonl; \
	(cd testscripts && MLXK_LIVE_HF_HOME="$$cache" MLXK_LIVE_SMOKE= MLXK_LIVE_PROGRESS=1 \
		MLXK_LIVE_REPORT=$(CURDIR)/$(BIN)/live-report.jsonl go test -count=1 -timeout 0 -run TestLiveScripts); rc=$$?; \
	if [ -s $(BIN)/live-report.jsonl ]; then go run ./testscripts/cmd/mlxk-live-report -o $(BIN)/live-report.md \
		$(BIN)/live-report.jsonl && echo "report: $(BIN)/live-report.jsonl, table: $(BIN)/live-report.md"; fi; exit $$rc

## test-live-smoke: the live suite over a generated portfolio (the demo model and a tiny model of
## every architecture and quantization, laid out as a real cache); what CI runs. Records and table in bin/.
test-live-smoke:
	@mkdir -p $(BIN) && rm -f $(BIN)/live-smoke-report.jsonl
	MLXK_LIVE_SMOKE=1 MLXK_LIVE_HF_HOME= MLXK_LIVE_REPORT=$(CURDIR)/$(BIN)/live-smoke-report.jsonl \
		go test -count=1 -run TestLiveScripts ./testscripts
	go run ./testscripts/cmd/mlxk-live-report -o $(BIN)/live-smoke-report.md $(BIN)/live-smoke-report.jsonl

vet:
	go vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## fuzz: run each fuzz target for FUZZTIME (default 20s).
FUZZTIME ?= 20s
fuzz:
	go test ./shared/modelref -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)
	go test ./shared/modelref -run '^$$' -fuzz FuzzRepoID -fuzztime $(FUZZTIME)
	go test ./shared/snapfiles -run '^$$' -fuzz FuzzParseJSONObject -fuzztime $(FUZZTIME)
	go test ./shared/modelinfo -run '^$$' -fuzz FuzzParseFrontMatter -fuzztime $(FUZZTIME)
	go test ./shared/health -run '^$$' -fuzz FuzzCheck -fuzztime $(FUZZTIME)
	go test ./shared/health -run '^$$' -fuzz FuzzWeightMapFiles -fuzztime $(FUZZTIME)
	go test ./shared/jsonscan -run '^$$' -fuzz FuzzTopLevel -fuzztime $(FUZZTIME)
	go test ./shared/tokenizer -run '^$$' -fuzz FuzzNew -fuzztime $(FUZZTIME)
	go test ./shared/tokenizer -run '^$$' -fuzz FuzzEncode -fuzztime $(FUZZTIME)
	go test ./shared/tokenizer -run '^$$' -fuzz FuzzFastSplit -fuzztime $(FUZZTIME)
	go test ./shared/chattemplate -run '^$$' -fuzz FuzzRender -fuzztime $(FUZZTIME)
	go test ./shared/safetensors -run '^$$' -fuzz FuzzParseHeader -fuzztime $(FUZZTIME)
	go test ./shared/safetensors -run '^$$' -fuzz FuzzParseIndex -fuzztime $(FUZZTIME)
	go test ./shared/quant -run '^$$' -fuzz FuzzQuantRoundTrip -fuzztime $(FUZZTIME)
	go test ./shared/mlxconvert -run '^$$' -fuzz FuzzParseConfig -fuzztime $(FUZZTIME)

	go test ./shared/engine/model -run '^$$' -fuzz FuzzParseConfig -fuzztime $(FUZZTIME)
	go test ./shared/engine/sample -run '^$$' -fuzz FuzzSample -fuzztime $(FUZZTIME)
	go test ./shared/engine/stopseq -run '^$$' -fuzz FuzzMatcher -fuzztime $(FUZZTIME)
	go test ./shared/engine/reasoning -run '^$$' -fuzz FuzzParser -fuzztime $(FUZZTIME)
	go test ./shared/engine/kernels -run '^$$' -fuzz FuzzKernelsAgree -fuzztime $(FUZZTIME)
	go test ./mlxk-serve/servecmd/openai -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)
	go test ./mlxk-serve/servecmd/openai -run '^$$' -fuzz FuzzDecodeMessages -fuzztime $(FUZZTIME)
	go test ./mlxk-serve/servecmd/openai -run '^$$' -fuzz FuzzDecodeResponses -fuzztime $(FUZZTIME)
	go test ./mlxk-serve/servecmd/openai -run '^$$' -fuzz FuzzDecodeEmbeddings -fuzztime $(FUZZTIME)
	go test ./mlxk-serve/servecmd/openai -run '^$$' -fuzz FuzzDecodeOllama -fuzztime $(FUZZTIME)
	go test ./mlxk-serve/servecmd/toolcall -run '^$$' -fuzz FuzzParser -fuzztime $(FUZZTIME)
	go test ./mlxk-serve/servecmd/constrain -run '^$$' -fuzz FuzzAutomaton -fuzztime $(FUZZTIME)

## goldens: regenerate the engine's golden logits with the independent torch
## reference (needs Debian's python3-torch and python3-numpy; not run by CI).
goldens:
	d=$$(mktemp -d) && go run ./shared/engine/testmodel/cmd/gentestmodels -out $$d >/dev/null && \
		/usr/bin/python3 shared/engine/testdata/ref/golden.py $$d shared/engine/testdata/golden; rc=$$?; rm -rf $$d; exit $$rc

## demo: build everything and run list, show and health on the bundled demo cache.
demo: build
	./demo/run.sh

## bench: the synthetic 1,000-model cache benchmark (see docs/performance.md).
bench: build
	./bench/listhealth.sh

## bench-pull: pull throughput from the fake Hub against curl (see docs/performance.md).
bench-pull: build
	./bench/pull.sh

## bench-tokenizer: Qwen3 encode throughput against the reference tokenizers (needs npm ci in shared/tokenizer/testdata/npm).
bench-tokenizer:
	./bench/tokenizer.sh

## bench-engine: Go engine speed beside llama.cpp (node-llama-cpp) on the same weights (see docs/performance.md).
bench-engine:
	./bench/engine.sh

## bench-serve: 1, 4 and 8 concurrent streaming clients against mlxk serve (see docs/serve.md).
bench-serve: build
	./bench/serve.sh

clean:
	rm -rf $(BIN)

# mlxk — build, test and measure the tool family.
# Everything runs from a clean checkout with Go 1.26; `make test` is what CI runs.

export GOEXPERIMENT ?= simd
export GOFLAGS ?= -buildvcs=false

BIN      := bin
BINARIES := mlxk-list mlxk-health mlxk-pull mlxk-push mlxk-clone mlxk-run mlxk-serve
MODULES  := shared $(BINARIES) testscripts
PKGS     := $(addsuffix /...,$(addprefix ./,$(MODULES)))

.PHONY: all build test vet fmt-check fuzz demo bench clean

all: build

build:
	@mkdir -p $(BIN)
	go build -o $(BIN)/ ./shared/cmd/mlxk $(addprefix ./,$(BINARIES))

## test: formatting, vet, unit tests and the testscript end-to-end specs.
test: fmt-check vet
	go test -count=1 $(PKGS)

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

## demo: build everything and run list, show and health on the bundled demo cache.
demo: build
	./demo/run.sh

## bench: the synthetic 1,000-model cache benchmark (see docs/performance.md).
bench: build
	./bench/listhealth.sh

clean:
	rm -rf $(BIN)

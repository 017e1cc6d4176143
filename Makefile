# fluxhunt: see README.md. `make demo` runs the lab; `make test` runs the tests.
GO        ?= go
VERSION   ?= $(shell cat VERSION 2>/dev/null || echo 0.1.0)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)
BIN       := bin/fluxhunt
FUZZTIME  ?= 20s
TESTFLAGS ?= -timeout 20m

.PHONY: all build test ci bench fuzz eval eval-dga model demo app clean

all: build

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/fluxhunt

# The test command (README, .ci/run). Tests that need unbound, Python, Node
# or ../shared skip with a message unless FLUXHUNT_REQUIRE_ALL_TESTS=1.
test:
	$(GO) vet ./...
	$(GO) test $(TESTFLAGS) ./...

# Everything CI runs, after .ci/run installed the tools.
ci:
	FLUXHUNT_REQUIRE_ALL_TESTS=1 $(MAKE) test
	$(MAKE) fuzz
	$(MAKE) app

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

fuzz:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

eval: eval-dga

eval-dga:
	$(GO) run ./detect/dga/cmd/eval -full

# Retrain the DGA model from ../shared and Debian's wamerican word list.
model:
	$(GO) run ./detect/dga/cmd/train

demo: build
	$(BIN) lab

app:
	scripts/package-app.sh $(VERSION)

clean:
	rm -rf bin dist

# kmend — build, test, demo, benchmarks and fuzzing.
# Everything the targets need is built or installed here and cached under
# .cache/ (ignored by git), so a fresh clone needs only Go and make.

GO       ?= go
CACHE    := $(CURDIR)/.cache
BIN      := $(CURDIR)/bin
KMEND    := $(BIN)/kmend
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -X github.com/kmend/kmend/internal/version.Version=$(VERSION)
FUZZTIME ?= 30s
KUBE_VERSION ?= v1.37.2
KUBE_ASSETS  := $(CACHE)/kube/$(KUBE_VERSION)

.PHONY: all build test demo bench fuzz lint kube browser catalog clean

all: build

# CGO_ENABLED=0: a static binary. kmend needs no C; with cgo (pulled in by
# kustomize's Go-plugin loader, which kmend never enables) the binary is
# dynamically linked and the loader's relocations cost about 4 ms of every
# start (docs/design.md, "Start-up is the price of one binary").
build: ## build bin/kmend (static)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(KMEND) ./cmd/kmend

test: lint kube browser ## vet, then every test (unit, golden, catalog fixtures, e2e against a real API server)
	KMEND_KUBE_ASSETS=$(KUBE_ASSETS) $(GO) test -count=1 ./...

catalog: ## compile patches/ into internal/catalog/builtin_gen.go (after editing a control)
	$(GO) run -tags kmend_nocatalog ./hack/catalogc internal/catalog/builtin_gen.go

browser: ## install headless Chromium for the browser test of kmend app register, where apt can (best effort)
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		(timeout 600 apt-get install -y -q chromium >/dev/null 2>&1 || \
		 { timeout 300 apt-get update -q >/dev/null 2>&1 && timeout 600 apt-get install -y -q chromium >/dev/null 2>&1; } || \
		 echo "browser: chromium not installed; its test is skipped"); } || true

kube: ## build kube-apiserver and etcd from Go modules for the e2e tests (once; cached in .cache/kube)
	@KUBE_VERSION=$(KUBE_VERSION) bash hack/kube/build.sh $(CACHE) >/dev/null

lint: ## go vet and gofmt
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.cache/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

demo: build ## run kmend's main job on the embedded fixtures, offline
	@$(GO) build -o $(BIN)/demoloop ./hack/demoloop
	@bash hack/demo.sh $(KMEND) $(BIN)/demoloop

bench: build ## measure kmend against peer tools; writes docs/benchmarks.md
	@bash hack/bench.sh $(KMEND) $(CACHE)

FUZZ_TARGETS := \
	FuzzEdit:./internal/yamledit/ \
	FuzzReadList:./internal/manifest/ \
	FuzzAppendJSONString:./internal/output/ \
	FuzzVerifySignature:./internal/webhook/ \
	FuzzReceiver:./internal/webhook/ \
	FuzzParseMetadata:./internal/render/ \
	FuzzJoinRel:./internal/sourcemap/ \
	FuzzParseTrackingID:./internal/sourcemap/

fuzz: ## run every fuzz target for FUZZTIME each (crashers are kept in testdata/fuzz as regression cases)
	@set -e; for t in $(FUZZ_TARGETS); do \
		echo "fuzz: $${t%%:*} ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$${t%%:*}$$" -fuzztime $(FUZZTIME) "$${t#*:}"; \
	done

clean:
	rm -rf $(BIN)

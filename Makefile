# ferry's build, checks and demo. `make test` is what CI runs; `make demo` shows ferry
# at work on a real local control plane. Both build the control plane's binaries into
# ~/.cache/ferry the first time (about 15 minutes on 2 cores), never again after.

GO        ?= go
BIN       := bin/ferry
VERSION   := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X ferry.dev/ferry/internal/version.Version=$(VERSION)
CACHE     := $(or $(FERRY_CACHE_DIR),$(XDG_CACHE_HOME),$(HOME)/.cache)
TOOLS     := $(CACHE)/ferry/tools
STATICCHECK_VERSION := v0.7.0
STATICCHECK := $(TOOLS)/staticcheck-$(STATICCHECK_VERSION)
TEST_TIMEOUT ?= 30m
TEST_PARALLEL ?= 3
TEST_PARALLEL_TESTS ?= 2
# kustomize's own switch: ferry never loads Go plugins (its static binary cannot). Without
# it, a cgo build (the race detector's) that imports kustomize links the whole binary
# for dynamic loading, externally: larger and slower to link.
GOTAGS    := kustomize_disable_go_plugin_support

.PHONY: all build image generate controlplane deps test fmt-check vet staticcheck tidy-check unit demo demo-shop demo-down bench-loadtest bench-release bench-migrate bench-proxy bench-controller clean

all: build

build:
	$(GO) build -trimpath -tags $(GOTAGS) -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/ferry

## image: ferry's OCI image without a container engine (hack/image): the static binary, CA
## certificates and user 65532 on an empty base, as an OCI layout in bin/image/oci and a
## tarball bin/image/ferry.tar, named as the Helm chart's default image; prints the digest.
## Timestamps are the commit's (or SOURCE_DATE_EPOCH), so one commit gives one digest.
image:
	@GO=$(GO) $(GO) run ./hack/image -out bin/image

## generate: deepcopy functions and the Migration CRD (config/crd) from api/v1alpha1's markers, the controller's ClusterRole (config/rbac) from internal/controller's, the dashboard's (config/rbac/dashboard) from internal/dashboard's
generate:
	$(GO) tool controller-gen object paths=./api/... crd:allowDangerousTypes=true output:crd:artifacts:config=config/crd
	$(GO) tool controller-gen rbac:roleName=ferry-controller paths=./internal/controller/... output:rbac:artifacts:config=config/rbac
	$(GO) tool controller-gen rbac:roleName=ferry-dashboard paths=./internal/dashboard/... output:rbac:artifacts:config=config/rbac/dashboard

## controlplane: build etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl and kwok once
controlplane:
	@bash hack/build-controlplane.sh >/dev/null

## deps: Debian packages the tests drive (chromium, prometheus), installed only if missing
deps:
	@bash hack/install-deps.sh

## test: every check and test; CI runs exactly this
test: fmt-check vet staticcheck tidy-check controlplane deps unit

fmt-check:
	@echo "==> gofmt"
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# -trimpath here and in hack/test.sh: the build cache then keys ferry's packages by
# their content, not by the clone's directory, so a fresh clone elsewhere (as CI's is)
# finds them compiled instead of compiling everything again (minutes on 2 cores).
vet:
	@echo "==> go vet"
	$(GO) vet -trimpath -tags $(GOTAGS) ./...

$(STATICCHECK):
	@echo "==> installing staticcheck $(STATICCHECK_VERSION)"
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(TOOLS)/staticcheck $(STATICCHECK)

staticcheck: $(STATICCHECK)
	@echo "==> staticcheck"
	GOFLAGS="$$($(GO) env GOFLAGS) -trimpath" $(STATICCHECK) -tags $(GOTAGS) ./...

tidy-check:
	@echo "==> go mod tidy (no diff allowed)"
	$(GO) mod tidy -diff

## unit: unit tests with the race detector, and integration tests against the local control plane
# hack/test.sh starts one local control plane for the whole run and stops it at its end;
# each test makes its own namespace in it. TEST_PARALLEL test binaries run at a time,
# TEST_PARALLEL_TESTS tests of one binary (those that wait on a cluster or a migration's
# steps run side by side).
unit:
	@echo "==> go test -race (one local control plane for all packages)"
	@GO=$(GO) TEST_PARALLEL=$(TEST_PARALLEL) TEST_PARALLEL_TESTS=$(TEST_PARALLEL_TESTS) TEST_TIMEOUT=$(TEST_TIMEOUT) bash hack/test.sh

## demo: the README's walkthrough (hack/walkthrough.sh): the example Laravel app (examples/payroll) imported, linted, deployed, load-tested and migrated on the local cluster
demo: build controlplane
	@bash hack/walkthrough.sh

## demo-shop: the older tour with examples/shop: deploys, a broken release rolled back on its own, a load test, the proxy, a migration and an abort
demo-shop: build controlplane
	@bash hack/demo.sh

## bench-loadtest: ferry loadtest's achieved rate and timing accuracy, and its top rate beside wrk's (not part of test)
bench-loadtest: build
	@bash hack/install-deps.sh --bench
	$(GO) run ./bench/loadtest -ferry $(BIN)

## bench-proxy: ferry's proxy against the backend, HAProxy and nginx with wrk (not part of test)
bench-proxy:
	@bash bench/proxy/bench.sh $(BENCH_ARGS)

demo-down: build
	$(BIN) dev cluster down

clean:
	rm -rf bin

## bench-release: ferry deploy/rollback of 400 replicas against kubectl on the same local cluster
bench-release: build controlplane
	$(GO) run ./bench/release -ferry $(BIN)

## bench-migrate: abort speed against a fixed-threshold judge (simulated), and a 30-run A/A check through the proxy
bench-migrate:
	$(GO) run ./bench/migrate -aa 30

## bench-controller: ferry controller with 20 and 200 Migrations at once on the local control plane (synthetic metrics): reconcile latency, peak memory, completion time
bench-controller: build controlplane
	$(GO) run ./bench/controller -ferry $(BIN) $(BENCH_ARGS)

# Weir's Makefile: a few pattern rules over the module list.
# `make test` builds everything it needs (the test control plane included) on a fresh machine.

SHELL := /usr/bin/env bash -o pipefail
export GOTOOLCHAIN := local
# One set of build flags for everything: the tests, `weir local up`, the images and the tools.
# Static, path-free builds are what the images need, and when the tests compile the same way
# every package is compiled once and shared through the Go build cache.
export CGO_ENABLED := 0
export GOFLAGS := -trimpath

MODULES     := api pkg deploy source-controller kustomize-controller helm-controller notification-controller cli cli/bench
CONTROLLERS := source-controller kustomize-controller helm-controller notification-controller

BIN := $(CURDIR)/bin
# Tool modules live outside go.work so their dependencies never reach the product's go.mod files.
TOOL_GO := GOWORK=off go

KUBE_VERSION := v1.37.2
KUBE_LDFLAGS := -s -w \
	-X k8s.io/component-base/version.gitVersion=$(KUBE_VERSION) -X k8s.io/component-base/version.gitMajor=1 \
	-X k8s.io/component-base/version.gitMinor=37 -X k8s.io/component-base/version.gitTreeState=clean \
	-X k8s.io/component-base/version.buildDate=2026-01-01T00:00:00Z \
	-X k8s.io/client-go/pkg/version.gitVersion=$(KUBE_VERSION) -X k8s.io/client-go/pkg/version.gitMajor=1 \
	-X k8s.io/client-go/pkg/version.gitMinor=37 -X k8s.io/client-go/pkg/version.gitTreeState=clean \
	-X k8s.io/client-go/pkg/version.buildDate=2026-01-01T00:00:00Z

CONTROLLER_GEN := $(BIN)/controller-gen
TESTBIN := $(BIN)/kube-apiserver $(BIN)/etcd
# What `make run` adds to the test control plane so that it behaves like a cluster: namespaces
# terminate, Pods are scheduled onto a simulated node (kwok) and Deployments become Available.
LOCALBIN := $(BIN)/kube-controller-manager $(BIN)/kube-scheduler $(BIN)/kwok
KWOK_VERSION := v0.8.0

# envtest finds etcd and kube-apiserver here; pkg/testenv reads it too.
export KUBEBUILDER_ASSETS := $(BIN)

GO_TEST_FLAGS ?= -count=1 -timeout=20m

# The images: tagged VERSION, for PLATFORMS, labelled and dated from the commit (cli/release).
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
PLATFORMS ?= linux/amd64,linux/arm64
REGISTRY  ?=
RELEASE   := cd cli && go run ./release

.PHONY: all build run localbin lint bench bench-set bench-ui fuzz generate test verify testbin browser podman screenshots tidy fmt vet clean images push images-tar

all: build

## build: every controller binary and the weir CLI into bin/
build: $(addprefix build-,$(CONTROLLERS)) build-weir
build-weir:
	@test -x $(BIN)/weir || echo "==> building bin/weir (the first build compiles its dependencies: a few minutes, once)"
	cd cli && go build \
		-ldflags "-X weir.dev/cli/internal/cmd.version=$$(git describe --always --dirty 2>/dev/null || echo devel)" -o $(BIN)/weir .
build-%:
	cd $* && go build -o $(BIN)/$* .

## images: the four controller images, built without a container daemon, as an OCI image layout
## in bin/images/; prints each one's digest (VERSION=git describe, PLATFORMS=linux/amd64,linux/arm64)
images:
	$(RELEASE) images --version $(VERSION) --platforms $(PLATFORMS) --out $(BIN)/images

## push: the images to REGISTRY/<controller>:VERSION, with the docker config's credentials
## (make push REGISTRY=ghcr.io/you VERSION=v0.1.0)
push:
	@test -n "$(REGISTRY)" || { echo "push: REGISTRY is empty: make push REGISTRY=ghcr.io/you [VERSION=v0.1.0]"; exit 1; }
	$(RELEASE) push --registry $(REGISTRY) --version $(VERSION) --platforms $(PLATFORMS)

## images-tar: one OCI archive per image in bin/images-tar/, for air-gapped clusters
## (podman load -i bin/images-tar/<controller>-VERSION.tar)
images-tar:
	$(RELEASE) tar --version $(VERSION) --platforms $(PLATFORMS) --out $(BIN)/images-tar

## run: bin/weir, then `weir local up`: Weir and its demo on a local control plane until Ctrl-C
## (RUN_ARGS adds flags, e.g. make run RUN_ARGS="--keep --no-demo"). On a first run weir builds
## the control plane and the controllers with progress lines, starts syncing, and builds
## kube-controller-manager, kube-scheduler and kwok in the background.
run: build-weir
	$(BIN)/weir local up $(RUN_ARGS)

## localbin: kube-controller-manager, kube-scheduler and kwok, which make the local control plane
## run Pods (`weir local up` builds them in the background when missing)
localbin: $(LOCALBIN)

## bench: the workloads of docs/benchmarks.md against the controllers on a fresh local control plane per
## size; a markdown table to stdout, every figure to bench-results.json. Not part of `make test`.
## (BENCH_ARGS adds flags, e.g. make bench BENCH_ARGS="-n 5 -workloads W1,W2"; BENCH_N=5 runs
## every workload at one small size; BENCH_W3_MINUTES shortens W3's window)
bench: testbin $(LOCALBIN) bench-set
	cd cli/bench && go run . $(BENCH_ARGS)

## bench-set: a ResourceSet of 1,000 inputs from creation to every generated object applied
## (target: under 10 s), with kustomize-controller's reconciler in the test process
bench-set: testbin
	cd kustomize-controller && go test -run '^$$' -bench '^BenchmarkSet1000Inputs$$' -benchtime 3x ./internal/controller

## bench-ui: the web UI's list view over 2,000 objects, served and rendered in headless Chromium
bench-ui: testbin browser
	cd cli && go test -run '^$$' -bench BenchmarkListView2000 -benchtime 20x -benchmem ./internal/ui

# Every fuzz target, as module:package:target (go test -fuzz takes one package and one target).
FUZZ_TARGETS := \
	pkg:./artifact:FuzzExtract \
	pkg:./kustomize/build:FuzzGuard \
	pkg:./identity:FuzzParseKubeConfig \
	source-controller:./internal/helmrepo:FuzzParseIndex \
	source-controller:./internal/chart:FuzzLoadArchive \
	source-controller:./internal/oci:FuzzManifest \
	notification-controller:./internal/receiver:FuzzVerify \
	cli:./internal/migrate:FuzzRewrite \
	kustomize-controller:./internal/decrypt:FuzzDecrypt
FUZZTIME ?= 1m

## fuzz: each fuzz target in turn for FUZZTIME (make fuzz FUZZTIME=10m); a failing input is saved
## under the package's testdata/fuzz/ and `make test` replays it. FUZZ_TARGETS picks a subset
## (pkg/identity's target starts the test control plane, so this builds it first)
fuzz: testbin
	@for t in $(FUZZ_TARGETS); do \
		IFS=: read -r mod pkg name <<< "$$t"; \
		echo "==> $$mod $$pkg $$name ($(FUZZTIME))"; \
		(cd $$mod && go test -timeout 0 -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) $$pkg) || exit 1; \
	done

## generate: deepcopy, CRDs (deploy/crds) and RBAC (deploy/<controller>/role.yaml) from markers
## (`weir install` embeds deploy/ itself, through the weir.dev/deploy module)
generate: $(CONTROLLER_GEN)
	cd api && $(CONTROLLER_GEN) object:headerFile=../hack/boilerplate.go.txt paths=./...
	cd api && $(CONTROLLER_GEN) crd paths=./... output:crd:artifacts:config=../deploy/crds
	@for c in $(CONTROLLERS); do \
		(cd $$c && $(CONTROLLER_GEN) rbac:roleName=$$c paths=./... output:rbac:artifacts:config=../deploy/$$c) || exit 1; \
	done

## test: every module's tests against the real API server (builds bin/ on first use, and
## installs Debian's Chromium for the UI's browser tests and podman and runc for the container
## tests when they are missing)
test: testbin browser podman
	@for m in $(MODULES); do \
		echo "==> go test $$m"; \
		(cd $$m && go test $(GO_TEST_FLAGS) ./...) || exit 1; \
	done

## verify: generated code current, gofmt, go vet and go mod tidy clean in every module
verify: generate
	@git diff --exit-code -- api deploy || { echo "generated files are stale: run 'make generate' and commit"; exit 1; }
	@test -z "$$(git ls-files --others --exclude-standard -- api deploy)" || { git ls-files --others --exclude-standard -- api deploy; echo "untracked generated files: run 'make generate' and git add them"; exit 1; }
	@out=$$(gofmt -l $(MODULES) tools); test -z "$$out" || { echo "not gofmt-clean:"; echo "$$out"; exit 1; }
	@for m in $(MODULES); do (cd $$m && go vet ./...) || exit 1; done
	@for m in $(MODULES); do \
		(cd $$m && go mod tidy -diff) || { echo "$$m: go.mod/go.sum not tidy: run 'make tidy'"; exit 1; }; \
	done
	@for t in tools/*/; do (cd $$t && $(TOOL_GO) mod tidy -diff) || { echo "$$t not tidy"; exit 1; }; done

## lint: staticcheck (pinned in tools/lint; settings in staticcheck.conf) over every module
lint: $(BIN)/staticcheck
	@for m in $(MODULES); do echo "==> staticcheck $$m"; (cd $$m && $(BIN)/staticcheck ./...) || exit 1; done

$(BIN)/staticcheck: tools/lint/go.mod
	cd tools/lint && $(TOOL_GO) build -o $@ honnef.co/go/tools/cmd/staticcheck

tidy:
	@for m in $(MODULES); do (cd $$m && go mod tidy) || exit 1; done
	@for t in tools/*/; do (cd $$t && $(TOOL_GO) mod tidy) || exit 1; done

## browser: Debian's Chromium for the UI's browser tests, installed with apt-get when missing
## (as root, or through sudo); $$CHROMIUM names another one
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || test -n "$$CHROMIUM" || { \
		echo "==> installing Debian's chromium for the UI's browser tests"; \
		sudo=$$(test "$$(id -u)" = 0 || echo sudo); \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null; }

## podman: Debian's podman and runc, which run the release images as containers in the tests
## (crun, podman's default runtime, fails on some cgroup layouts: the tests use runc)
podman:
	@{ command -v podman && command -v runc; } >/dev/null 2>&1 || { \
		echo "==> installing Debian's podman and runc for the container tests"; \
		sudo=$$(test "$$(id -u)" = 0 || echo sudo); \
		$$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends podman runc >/dev/null; }

## screenshots: the README's pictures of the web UI (docs/ui/*.png), taken by its browser test
screenshots: testbin browser
	mkdir -p docs/ui
	cd cli && WEIR_UI_SCREENSHOTS=$(CURDIR)/docs/ui go test -count=1 -run '^TestBrowser$$' ./internal/ui

## testbin: a real kube-apiserver and etcd, built once from the Go module proxy into bin/
testbin: $(TESTBIN)

$(BIN)/kube-apiserver: tools/kube/go.mod
	cd tools/kube && $(TOOL_GO) build -ldflags "$(KUBE_LDFLAGS)" -o $@ k8s.io/kubernetes/cmd/kube-apiserver

$(BIN)/kube-controller-manager $(BIN)/kube-scheduler: tools/kube/go.mod
	cd tools/kube && $(TOOL_GO) build -ldflags "$(KUBE_LDFLAGS)" -o $@ k8s.io/kubernetes/cmd/$(notdir $@)

# kwok has its own dependency graph (k8s.io/* v0.36): installed at its version, outside go.work.
# Its stages (node Ready with a lease; Pods Ready, complete, deleted: kwokctl's "fast" profile)
# are assembled next to it from kwok's own module source, so none of its files live here.
KWOK_STAGES := node/fast/node-initialize node/heartbeat-with-lease/node-heartbeat-with-lease \
	pod/fast/pod-ready pod/fast/pod-complete pod/fast/pod-delete
$(BIN)/kwok:
	GOBIN=$(BIN) $(TOOL_GO) install -ldflags "-s -w" sigs.k8s.io/kwok/cmd/kwok@$(KWOK_VERSION)
	dir=$$($(TOOL_GO) mod download -json sigs.k8s.io/kwok@$(KWOK_VERSION) | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p') && \
		for s in $(KWOK_STAGES); do echo '---'; cat "$$dir/kustomize/stage/$$s.yaml"; done > $(BIN)/kwok-stages.yaml

$(BIN)/etcd: tools/etcd/go.mod
	cd tools/etcd && $(TOOL_GO) build -ldflags "-s -w" -o $@ go.etcd.io/etcd/server/v3

$(CONTROLLER_GEN): tools/codegen/go.mod
	cd tools/codegen && $(TOOL_GO) build -o $@ sigs.k8s.io/controller-tools/cmd/controller-gen

clean:
	rm -rf $(BIN)

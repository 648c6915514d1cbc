# modelsync — run `make help` for the targets.
SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec
.DEFAULT_GOAL := help

ROOT    := $(abspath .)
BIN_DIR := $(ROOT)/bin
export PATH := $(BIN_DIR):$(PATH)
export CGO_ENABLED := 0

# Pinned tools and test control plane.
CONTROLLER_GEN_VERSION ?= v0.23.0
KUBE_VERSION           ?= 1.37.2
ETCD_VERSION           ?= 3.6.8
CONTROLLER_GEN         := $(BIN_DIR)/controller-gen-$(CONTROLLER_GEN_VERSION)
KUBEBUILDER_ASSETS     := $(BIN_DIR)/k8s/$(KUBE_VERSION)-linux-amd64
export KUBEBUILDER_ASSETS

GO_TEST_FLAGS ?= -count=1 -timeout=20m
BINARIES := $(notdir $(wildcard cmd/*))
# Files written by `make generate` (and go mod tidy); `make verify` fails when they change.
GENERATED := api kpt-packages go.mod go.sum docs

##@ General
.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  %-16s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development
.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy, the CRD and RBAC (into kpt-packages/modelsync).
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths=./api/...
	$(CONTROLLER_GEN) crd paths=./api/... output:crd:dir=kpt-packages/modelsync/crd
	$(CONTROLLER_GEN) rbac:roleName=modelsync-controller paths=./internal/controller/... output:rbac:dir=kpt-packages/modelsync/rbac

.PHONY: verify
verify: generate ## Regenerate and fail if a generated file or go.mod is stale.
	go mod tidy
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$unformatted" ]; then \
		echo "gofmt: these files need formatting:"; echo "$$unformatted"; exit 1; fi
	@stale="$$(git diff --name-only -- $(GENERATED); git ls-files --others --exclude-standard -- $(GENERATED))"; \
	if [ -n "$$stale" ]; then echo "$$stale"; git diff --stat -- $(GENERATED); \
		echo "verify: generated files are stale; run 'make generate' and commit"; exit 1; fi
	go vet ./...

.PHONY: build
build: ## Build every binary (static) into bin/.
	@mkdir -p $(BIN_DIR)
	$(if $(BINARIES),go build -trimpath -o $(BIN_DIR)/ $(addprefix ./cmd/,$(BINARIES)),@echo "no binaries yet")

.PHONY: image-controller
image-controller: ## Build the controller image modelsync-controller:latest (FROM scratch).
	@ctx=$$(mktemp -d); trap 'rm -rf "$$ctx"' EXIT; \
	go build -trimpath -o "$$ctx/modelsync-controller" ./cmd/modelsync-controller; \
	docker build -q -f cmd/modelsync-controller/Dockerfile -t modelsync-controller:latest "$$ctx"

##@ Testing
.PHONY: testbin
testbin: $(KUBEBUILDER_ASSETS)/kube-apiserver ## Build etcd and kube-apiserver for the tests into bin/ (cached).

$(KUBEBUILDER_ASSETS)/kube-apiserver:
	KUBE_VERSION=$(KUBE_VERSION) ETCD_VERSION=$(ETCD_VERSION) BIN_DIR=$(BIN_DIR) hack/build-testbin.sh

.PHONY: test
test: testbin ## Run all tests against a real kube-apiserver and etcd.
	go test $(GO_TEST_FLAGS) ./...

.PHONY: update-golden
update-golden: ## Rewrite golden files from the current output.
	go test ./... -update

.PHONY: bench
bench: testbin ## Run the benchmarks.
	go test -run '^$$' -bench . -benchmem -timeout=30m ./...

$(CONTROLLER_GEN):
	@mkdir -p $(BIN_DIR)
	GOBIN=$(BIN_DIR) GOFLAGS= go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_GEN_VERSION)
	mv $(BIN_DIR)/controller-gen $@

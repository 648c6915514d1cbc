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
# Extra flags of `make demo`, e.g. DEMO_FLAGS=--keep (see bin/modelsync-demo -h).
DEMO_FLAGS ?=
BINARIES := $(notdir $(wildcard cmd/*))
# Files written by `make generate` (and go mod tidy); `make verify` fails when they change.
GENERATED := api kpt-packages go.mod go.sum docs

# KRM functions (fn/<name>): static binaries in dist/fn, images FROM scratch tagged modelsync/<name>:$(FN_TAG).
FUNCTIONS := $(notdir $(patsubst %/main.go,%,$(wildcard fn/*/main.go)))
FN_DIR    := $(ROOT)/dist/fn
FN_TAG    ?= dev
# kpt's apply-setters, built from the module proxy, is the baseline of the set-automl-model benchmark.
APPLY_SETTERS_MODULE  := github.com/GoogleContainerTools/kpt-functions-catalog/functions/go/apply-setters
APPLY_SETTERS_VERSION ?= v0.2.0
APPLY_SETTERS         := $(BIN_DIR)/apply-setters-$(APPLY_SETTERS_VERSION)

##@ General
.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"; printf "Usage: make <target>\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  %-16s %s\n", $$1, $$2 } /^##@/ { printf "\n%s\n", substr($$0, 5) }' $(MAKEFILE_LIST)

##@ Development
.PHONY: generate
generate: $(CONTROLLER_GEN) ## Generate deepcopy, the CRD and RBAC (into kpt-packages/modelsync) and the CLI reference (docs/cli).
	$(CONTROLLER_GEN) object:headerFile=hack/boilerplate.go.txt paths=./api/...
	$(CONTROLLER_GEN) crd paths=./api/... output:crd:dir=kpt-packages/modelsync/crd
	$(CONTROLLER_GEN) rbac:roleName=modelsync-controller paths=./internal/controller/... output:rbac:dir=kpt-packages/modelsync/rbac
	go run ./hack/gen-cli-docs docs/cli

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
	$(if $(BINARIES),go build -trimpath -ldflags='-s -w' -o $(BIN_DIR)/ $(addprefix ./cmd/,$(BINARIES)),@echo "no binaries yet")

.PHONY: demo
demo: testbin build ## Run the whole loop on this machine: train, publish, propose by PR, merge, deploy — twice.
	go build -trimpath -ldflags='-s -w' -o $(BIN_DIR)/ ./fn/set-automl-model
	$(BIN_DIR)/modelsync-demo $(DEMO_FLAGS)

.PHONY: image-controller
image-controller: ## Build the controller image modelsync-controller:latest (FROM scratch).
	@ctx=$$(mktemp -d); trap 'rm -rf "$$ctx"' EXIT; \
	go build -trimpath -o "$$ctx/modelsync-controller" ./cmd/modelsync-controller; \
	docker build -q -f cmd/modelsync-controller/Dockerfile -t modelsync-controller:latest "$$ctx"

.PHONY: labelbot-demo
labelbot-demo: ## Generate 20,000 demo issues, train the label bot on them, print its figures.
	@dir=$$(mktemp -d); \
	go run ./cmd/labelbot generate --n 20000 --seed 1 -o $$dir/issues.jsonl; \
	go run ./cmd/labelbot train --data $$dir/issues.jsonl --out $$dir/model; \
	echo "model folder: $$dir/model (open report.html)"

.PHONY: functions
functions: ## Build the KRM functions (static, stripped) into dist/fn and print their sizes.
	@mkdir -p $(FN_DIR)
	go build -trimpath -ldflags='-s -w' -o $(FN_DIR)/ $(addprefix ./fn/,$(FUNCTIONS))
	@ls -l $(addprefix $(FN_DIR)/,$(FUNCTIONS)) | awk '{printf "  %-22s %6.1f MB\n", $$NF, $$5/1048576}'

.PHONY: images
images: functions ## Build the KRM function images FROM scratch (modelsync/<fn>:$(FN_TAG)).
	@for f in $(FUNCTIONS); do \
		ctx=$$(mktemp -d); cp fn/image/passwd fn/image/group $(FN_DIR)/$$f $$ctx/; \
		docker build -q -f fn/image/Dockerfile --build-arg FN=$$f -t modelsync/$$f:$(FN_TAG) $$ctx || { rm -rf $$ctx; exit 1; }; \
		rm -rf $$ctx; echo "built modelsync/$$f:$(FN_TAG)"; \
	done

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
bench: testbin $(APPLY_SETTERS) ## Run the benchmarks (set-automl-model is compared with kpt's apply-setters).
	APPLY_SETTERS=$(APPLY_SETTERS) go test -run '^$$' -bench . -benchmem -timeout=60m ./...

# The module cannot be `go install`ed (the proxy refuses its version list), so build it from its zip.
$(APPLY_SETTERS):
	@mkdir -p $(BIN_DIR)
	tmp=$$(mktemp -d); trap 'chmod -R u+w '$$tmp'; rm -rf '$$tmp EXIT; cd $$tmp; \
	src=$$(GOFLAGS= go mod download -json $(APPLY_SETTERS_MODULE)@$(APPLY_SETTERS_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p'); \
	cp -r "$$src" build; chmod -R u+w build; cd build; GOFLAGS=-mod=mod go build -o $@ .

$(CONTROLLER_GEN):
	@mkdir -p $(BIN_DIR)
	GOBIN=$(BIN_DIR) GOFLAGS= go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_GEN_VERSION)
	mv $(BIN_DIR)/controller-gen $@

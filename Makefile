# Linkdesk. `make run` starts the console for a try-out; `make test` installs what the tests
# need (Debian's chromium, the Playwright driver from npm) and runs every test.
SHELL := /bin/bash
GO ?= go

# playwright-go v0.5200.1 drives Playwright 1.52.0 (its playwrightCliVersion).
PLAYWRIGHT_VERSION := 1.52.0
DRIVER_DIR := $(CURDIR)/.cache/playwright-driver
export PLAYWRIGHT_DRIVER_PATH := $(DRIVER_DIR)
export PLAYWRIGHT_NODEJS_PATH ?= $(shell command -v node || echo /usr/bin/node)
export LINKDESK_CHROMIUM ?= /usr/bin/chromium
# The e2e suite runs axe-core's engine (the one @axe-core/playwright injects) on every page.
AXE_VERSION := 4.14.1
AXE_DIR := $(CURDIR)/.cache/axe-core
export LINKDESK_AXE ?= $(AXE_DIR)/package/axe.min.js
# The SSO journeys sign in at a real OpenID Provider: the npm package oidc-provider, run by Node.
OIDC_PROVIDER_VERSION := 9.13.3
OIDC_PROVIDER_DIR := $(CURDIR)/.cache/oidc-provider-$(OIDC_PROVIDER_VERSION)
export LINKDESK_OIDC_PROVIDER ?= $(OIDC_PROVIDER_DIR)

.PHONY: run build generate test unit e2e e2e-deps bench vet lint

run:
	$(GO) run ./cmd/linkdesk serve --dev

build:
	$(GO) build -o bin/linkdesk ./cmd/linkdesk

generate:
	$(GO) tool templ generate

vet:
	$(GO) vet ./...

# The lint gate `make test` runs first: formatting, vet, staticcheck, templ formatting, generated
# views matching their source, and go.mod tidy.
GO_FILES = $(shell find . -name '*.go' -not -path './.cache/*')
lint: vet
	@out=$$(gofmt -l $(GO_FILES)); if [ -n "$$out" ]; then echo "gofmt needed (run gofmt -w):"; echo "$$out"; exit 1; fi
	$(GO) tool staticcheck ./...
	@for f in $$(find . -name '*.templ' -not -path './.cache/*'); do \
		$(GO) tool templ fmt -stdout $$f 2>/dev/null | cmp -s - $$f || { echo "templ fmt needed: $$f (run go tool templ fmt .)"; exit 1; }; \
	done
	@before=$$(cat views/*_templ.go | sha256sum); $(GO) tool templ generate >/dev/null 2>&1; \
	if [ "$$before" != "$$(cat views/*_templ.go | sha256sum)" ]; then echo "views/*_templ.go were stale: regenerated them, commit the result"; exit 1; fi
	$(GO) mod tidy -diff

# Idempotent and quick when everything is already there.
e2e-deps:
	@if [ ! -x "$(LINKDESK_CHROMIUM)" ]; then \
		echo "Installing Debian's chromium..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
		|| { echo "Could not install chromium: run 'apt-get install chromium' as root, or set LINKDESK_CHROMIUM."; exit 1; }; \
	fi
	@if [ ! -x "$(PLAYWRIGHT_NODEJS_PATH)" ]; then \
		echo "Installing Node.js..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null \
		|| { echo "Could not install Node.js: install it, or set PLAYWRIGHT_NODEJS_PATH."; exit 1; }; \
	fi
	@if [ ! -f "$(DRIVER_DIR)/package/cli.js" ]; then \
		echo "Fetching the Playwright driver $(PLAYWRIGHT_VERSION) from npm..."; \
		mkdir -p "$(DRIVER_DIR)" && cd "$(DRIVER_DIR)" && \
		npm pack --silent playwright-core@$(PLAYWRIGHT_VERSION) >/dev/null && \
		tar xzf playwright-core-$(PLAYWRIGHT_VERSION).tgz && rm playwright-core-$(PLAYWRIGHT_VERSION).tgz; \
	fi
	@if [ ! -f "$(AXE_DIR)/package/axe.min.js" ]; then \
		echo "Fetching axe-core $(AXE_VERSION) from npm..."; \
		mkdir -p "$(AXE_DIR)" && cd "$(AXE_DIR)" && \
		npm pack --silent axe-core@$(AXE_VERSION) >/dev/null && \
		tar xzf axe-core-$(AXE_VERSION).tgz && rm axe-core-$(AXE_VERSION).tgz; \
	fi
	@if [ ! -f "$(OIDC_PROVIDER_DIR)/node_modules/oidc-provider/package.json" ]; then \
		echo "Fetching oidc-provider $(OIDC_PROVIDER_VERSION) from npm..."; \
		mkdir -p "$(OIDC_PROVIDER_DIR)" && cd "$(OIDC_PROVIDER_DIR)" && \
		npm install --silent --no-save --no-audit --no-fund --prefix . oidc-provider@$(OIDC_PROVIDER_VERSION) >/dev/null; \
	fi

UNIT_PKGS = $(shell $(GO) list ./... | grep -v /e2e)

test: lint e2e-deps unit e2e

# Unit and integration tests run under the race detector.
unit:
	$(GO) test -race -timeout 20m $(UNIT_PKGS)

e2e: e2e-deps
	$(GO) test -timeout 15m ./e2e/

# The list benchmarks seed a million inquiries once (about a minute) into .cache/bench/. The e2e
# package has no benchmarks (and needs the browser set up), so it is left out.
bench:
	$(GO) test -p 1 -run '^$$' -bench . -benchtime 2s -timeout 30m $(UNIT_PKGS)

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

.PHONY: run build generate test e2e e2e-deps bench vet

run:
	$(GO) run ./cmd/linkdesk serve --dev

build:
	$(GO) build -o bin/linkdesk ./cmd/linkdesk

generate:
	$(GO) tool templ generate

vet:
	$(GO) vet ./...

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

test: e2e-deps vet
	$(GO) test -timeout 20m ./...

e2e: e2e-deps
	$(GO) test -timeout 15m -v ./e2e/

# The list benchmarks seed a million inquiries once (about half a minute) into .cache/bench/.
bench:
	$(GO) test -p 1 -run '^$$' -bench . -benchtime 2s -timeout 30m ./...

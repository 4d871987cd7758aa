# truyxuat: `make help` lists the targets.
.DEFAULT_GOAL := help
SHELL := /bin/bash

# Files compiled through include! are not reached by `cargo fmt`; format them by name.
INCLUDED_SOURCES := $(wildcard src/store/sql/*.rs)

.PHONY: help run test test-deps lint fmt bench soak openapi

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

run: ## Build, migrate, load the demo data (and demo people) once and serve http://127.0.0.1:8080/
	cargo run --release -- serve --demo

test-deps: ## Install what the tests drive: chromium, playwright-core, pdftoppm, zbarimg, time, LibreOffice Calc, openpyxl, schemathesis, cryptography
	@missing=(); \
	command -v chromium >/dev/null || missing+=(chromium); \
	command -v pdftoppm >/dev/null || missing+=(poppler-utils); \
	command -v zbarimg >/dev/null || missing+=(zbar-tools); \
	[ -x /usr/bin/time ] || missing+=(time); \
	command -v soffice >/dev/null || missing+=(libreoffice-calc-nogui); \
	if [ $${#missing[@]} -gt 0 ]; then \
	  echo "== installing $${missing[*]}"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$${missing[@]}"; \
	fi
	@[ -d tests/browser/node_modules/playwright-core ] || (cd tests/browser && npm ci --no-audit --no-fund)
	@[ -x tests/.venv/bin/python ] && tests/.venv/bin/python -c 'import openpyxl, cryptography, jsonschema_rs' 2>/dev/null \
	  && [ -x tests/.venv/bin/schemathesis ] || \
	  (python3 -m venv tests/.venv && tests/.venv/bin/pip install -q \
	    -r tests/sheets/requirements.txt -r tests/api/requirements.txt \
	    -r tests/audit/requirements.txt -r tests/epcis/requirements.txt)

# The PostgreSQL the tests use: TRUYXUAT_TEST_POSTGRES_URL, or the server of a developer's
# machine at 127.0.0.1:5432 (as `.ci/run` sets) when one answers there.
LOCAL_POSTGRES := postgres://postgres@127.0.0.1:5432/test

test: test-deps ## Run every test, on SQLite and (when one answers) PostgreSQL
	@url="$$TRUYXUAT_TEST_POSTGRES_URL"; \
	if [ -z "$$url" ] && command -v pg_isready >/dev/null \
	   && pg_isready -q -h 127.0.0.1 -p 5432 -U postgres -d test; then \
	  url="$(LOCAL_POSTGRES)"; \
	fi; \
	if [ -n "$$url" ]; then \
	  echo "== PostgreSQL tests: on ($${url%%\?*})"; \
	  TRUYXUAT_TEST_POSTGRES_URL="$$url" cargo test; \
	elif [ "$$CI" = "true" ]; then \
	  echo "!! CI=true but no PostgreSQL answers: PostgreSQL tests cannot be skipped in CI" >&2; \
	  exit 1; \
	else \
	  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	  echo "!! SKIPPING the PostgreSQL tests: none answers at 127.0.0.1:5432 and"; \
	  echo "!! TRUYXUAT_TEST_POSTGRES_URL is not set. Run them with"; \
	  echo "!! TRUYXUAT_TEST_POSTGRES_URL=postgres://USER@HOST:PORT/DB make test"; \
	  echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"; \
	  cargo test -- --skip postgres::; \
	  echo "!! PostgreSQL tests were SKIPPED (see above)"; \
	fi

openapi: ## Write the generated OpenAPI document to docs/openapi.json (commit it with the API change)
	TRUYXUAT_UPDATE_OPENAPI=1 cargo test --test integration openapi::the_committed_document

lint: ## rustfmt check and clippy with -D warnings
	cargo fmt --check
	rustfmt --edition 2024 --check $(INCLUDED_SOURCES)
	cargo clippy --all-targets -- -D warnings

fmt: ## Format the code
	cargo fmt
	rustfmt --edition 2024 $(INCLUDED_SOURCES)

bench: test-deps ## Benchmarks, printed beside their baselines
	bash ../shared/bench/setup.sh
	cargo bench --bench minting
	cargo bench --bench printing
	cargo bench --bench workspace
	cargo bench --bench audit
	python3 bench/audit_floor.py
	cargo bench --bench inspector
	cargo bench --bench events
	bash bench/scan_page.sh 10

soak: ## The label property tests with 1,000,000 cases
	TRUYXUAT_PROPTEST_CASES=1000000 cargo test --release --lib labelcode::proptests -- --nocapture

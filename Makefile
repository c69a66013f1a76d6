# tokenmanager: the two commands that matter are `make run` and `make test`.
GO ?= go
BIN := bin/tokenmanager
NODE_CLIENT := testdata/interop/node

.PHONY: run build image test test-deps vet bench bench-insert-limit soak fuzz generate clean check-cgo

# The service on http://127.0.0.1:8080, SQLite and its key in ./data; the binary stays in bin/ for the CLI.
run: build
	$(BIN) serve

build: check-cgo
	CGO_ENABLED=1 $(GO) build -o $(BIN) ./cmd/tokenmanager

# A container image with nothing pulled: a static binary FROM scratch (deploy/Containerfile.scratch), built with
# podman, or buildah (CONTAINER=buildah CONTAINER_BUILD=bud). deploy/Containerfile is the multi-stage recipe that
# pulls golang and distroless images instead.
CONTAINER ?= podman
CONTAINER_BUILD ?= build
IMAGE ?= localhost/tokenmanager
image: check-cgo
	rm -rf bin/image && mkdir -p bin/image/data
	CGO_ENABLED=1 $(GO) build -trimpath -ldflags='-s -w -linkmode external -extldflags "-static"' \
		-tags 'osusergo netgo sqlite_omit_load_extension' -o bin/image/tokenmanager ./cmd/tokenmanager
	$(CONTAINER) $(CONTAINER_BUILD) -f deploy/Containerfile.scratch -t $(IMAGE) bin/image

# The SQLite driver and the race detector are cgo: without a C compiler `go build` stops at an undefined
# sqlite3.Error, which says nothing of the cause. Say it (and a Go older than go.mod asks) before building.
check-cgo:
	@command -v $(GO) >/dev/null 2>&1 || { echo "make: no '$(GO)' command: install Go $$(sed -n 's/^go //p' go.mod) or newer (https://go.dev/dl/)" >&2; exit 1; }
	@want=$$(sed -n 's/^go //p' go.mod); have=$$($(GO) env GOVERSION | sed 's/^go//'); \
		[ "$$(printf '%s\n%s\n' "$$want" "$$have" | sort -V | head -n 1)" = "$$want" ] || { \
		echo "make: Go $$have is older than the $$want that go.mod needs" >&2; exit 1; }
	@cc=$$(CGO_ENABLED=1 $(GO) env CC); command -v "$${cc%% *}" >/dev/null 2>&1 || { \
		echo "make: no C compiler ('$$cc'): tokenmanager's SQLite driver needs cgo." >&2; \
		echo "      Debian/Ubuntu: apt-get install gcc libc6-dev; Fedora: dnf install gcc; macOS: xcode-select --install" >&2; exit 1; }

# Everything the tests need that the Go toolchain does not fetch by itself.
test-deps:
	@if [ -f $(NODE_CLIENT)/package-lock.json ] && command -v npm >/dev/null && \
		{ [ ! -f $(NODE_CLIENT)/node_modules/.package-lock.json ] || \
		  [ $(NODE_CLIENT)/package-lock.json -nt $(NODE_CLIENT)/node_modules/.package-lock.json ]; }; then \
		npm ci --prefix $(NODE_CLIENT) --no-audit --no-fund; fi

# gofmt, go vet and staticcheck (a tool dependency in go.mod: go tool staticcheck).
vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

test: check-cgo test-deps vet
	CGO_ENABLED=1 $(GO) test -race -count=1 ./...

# Every performance figure in one run (a few minutes; progress on stderr, a targets table at the end). Server CPU
# profiles of each window: make bench BENCHFLAGS='--profile prof'. A quick look: BENCHFLAGS='--duration 1s
# --fill-tokens 100000'. On PostgreSQL, one node or several sharing the database: BENCHFLAGS='--db postgres://… --nodes 2'
bench: build
	$(GO) run ./cmd/tmbench --bin $(BIN) $(BENCHFLAGS)
	@$(MAKE) --no-print-directory bench-insert-limit

# The storage limit beside the service (about 10 s): token rows through the service's group commit from 32
# issuers, and the same rows by a bare loop of prepared inserts, one transaction per batch; the gap is the ratio.
bench-insert-limit:
	@echo; echo "insert limit (storage/sqlite BenchmarkInsertLimit*, 20,000 token rows each):"
	@CGO_ENABLED=1 $(GO) test -run '^$$' -bench InsertLimit -benchtime 20000x ./storage/sqlite/ | awk ' \
		/rows\/s/ { sub(/-[0-9]+$$/, "", $$1); for (i = 2; i < NF; i++) { \
			if ($$(i+1) == "rows/s") r[$$1] = $$i; if ($$(i+1) == "rows/batch") nb = $$i } \
			printf "  %-34s %9.0f rows/s%s\n", substr($$1, 10), r[$$1], ($$1 ~ /Service/ ? sprintf(", %.1f rows per commit", nb) : "") } \
		/^(FAIL|---)/ { print; bad = 1 } \
		END { s = r["BenchmarkInsertLimitService"]; a = r["BenchmarkInsertLimitRaw/batch=8"]; b = r["BenchmarkInsertLimitRaw/batch=32"]; \
			if (bad || !s || !a || !b) { print "insert limit: benchmark failed"; exit 1 } \
			printf "  gap: the service writes %.2fx the bare loop at its own batch size (8) and %.2fx at 32 rows per commit\n", s / a, s / b }'

# Mixed load over every dialect for SOAK (default 10m), RSS and Go heap sampled every 10 s; fails on any error,
# growth over 10 % on the plateau (last third of the samples against the middle third), or goroutines or open
# files left after the load: make soak SOAK=1h
SOAK ?= 10m
soak: build
	$(GO) run ./cmd/tmbench --bin $(BIN) --soak $(SOAK) --concurrency 16

# Every fuzz target (func FuzzX in a _test.go file), one after the other, FUZZTIME each: make fuzz FUZZTIME=5m
FUZZTIME ?= 30s
fuzz:
	@set -e; grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r f; do \
		pkg=./$$(dirname "$$f"); \
		for target in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$f"); do \
			echo "==> $$pkg $$target ($(FUZZTIME))"; \
			CGO_ENABLED=1 $(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) "$$pkg"; \
		done; \
	done

generate:
	$(GO) generate ./...

clean:
	rm -rf bin

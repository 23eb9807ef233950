# The two commands of the README: `make testnet` and `make test`.
.PHONY: test testnet build bench

NODES ?= 4

# The test command: every package with the race detector; fuzz targets run their seed corpus.
test:
	go test -race -count=1 -timeout 15m ./...

# Build both binaries into ./bin.
build:
	go build -o bin/ ./cmd/loyald ./cmd/loyal

# The main job: a local testnet with demo keys in ./testnet-data, until Ctrl-C (run it
# again to resume the same chain; delete testnet-data to start over).
testnet: build
	bin/loyald testnet --nodes $(NODES) --dir testnet-data

# Benchmarks behind BENCHMARKS.md.
bench:
	go test -run '^$$' -bench 'Digest|Recover' -benchtime 2s ./chain/
	go test -run '^$$' -bench 'ApplyBlock' -benchtime 8x ./chain/ledger/
	go test -run '^$$' -bench 'StateRootChoice|BlockUpdate' -benchtime 5x ./chain/smt/
	go test -run '^$$' -bench 'BatchCommit|BlockBatch' -benchtime 5x ./chain/store/backends/
	go test -run '^$$' -bench 'IdleSubmitToCommit' -benchtime 10x ./node/
	go test -run '^$$' -bench 'ClusterThroughput' -benchtime 20x ./testnet/
	LOYAL_BENCH_VERIFY_TXS=1000000 go test -run '^$$' -bench 'Verify' -benchtime 1x -timeout 30m ./audit/verify/

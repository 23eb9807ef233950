# The two commands of the README: `make testnet` (coming with the node) and `make test`.
.PHONY: test testnet bench

# The test command: every package with the race detector; fuzz targets run their seed corpus.
test:
	go test -race -count=1 -timeout 15m ./...

testnet:
	@echo "The local multi-node testnet arrives with the node (issues 3 and 4)."; exit 1

# Benchmarks behind BENCHMARKS.md.
bench:
	go test -run '^$$' -bench . -benchtime 3x ./chain/...

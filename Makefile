# The two commands of the README: `make testnet` (coming with the node) and `make test`.
.PHONY: test testnet bench

# The test command: every package with the race detector; fuzz targets run their seed corpus.
test:
	go test -race -count=1 -timeout 15m ./...

testnet:
	@echo "The local multi-node testnet arrives with the node (issues 3 and 4)."; exit 1

# Benchmarks behind BENCHMARKS.md.
bench:
	go test -run '^$$' -bench 'Digest|Recover' -benchtime 2s ./chain/
	go test -run '^$$' -bench 'ApplyBlock' -benchtime 4x ./chain/ledger/
	go test -run '^$$' -bench 'StateRootChoice|BlockUpdate' -benchtime 5x ./chain/smt/
	go test -run '^$$' -bench 'BatchCommit' -benchtime 5x ./chain/store/

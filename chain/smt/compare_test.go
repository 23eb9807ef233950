package smt_test

import (
	"encoding/binary"
	"testing"

	"github.com/ethereum/go-ethereum/core/rawdb"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/trie"
	"github.com/ethereum/go-ethereum/triedb"
	"github.com/loyal-ledger/loyal/chain/smt"
)

// BenchmarkStateRootChoice is the benchmark the state structure was chosen by: 100,000
// records, then per block 20,000 updated records (a block of 10,000 transfers touches two
// balances each) of ~100-byte values and one root. It compares this package's sparse Merkle
// tree with go-ethereum's Merkle Patricia trie over an in-memory trie database, in the same
// run. Each side hashes keys inside the timed loop the way its system does: the SMT with
// smt.HashKey and smt.HashValue (SHA-256, what the ledger calls), the MPT with Keccak-256
// keys as Ethereum's secure trie does (values go into its nodes, which it hashes). The figure to
// compare is ns/update.
func BenchmarkStateRootChoice(b *testing.B) {
	const records, perBlock = 100_000, 20_000
	rawKey := func(i int) []byte { return binary.BigEndian.AppendUint64([]byte("b"), uint64(i)) }
	key := func(i int) []byte { return crypto.Keccak256(rawKey(i)) }
	value := func(i, round int) []byte {
		v := make([]byte, 100)
		binary.BigEndian.PutUint64(v, uint64(i))
		binary.BigEndian.PutUint64(v[8:], uint64(round))
		return v
	}
	pick := func(round, j int) int { return (j*7919 + round*104729) % records }

	b.Run("smt", func(b *testing.B) {
		tr := smt.New()
		for i := range records {
			tr.Set(smt.HashKey(rawKey(i)), smt.HashValue(value(i, 0)))
		}
		tr.Root()
		b.ResetTimer()
		for n := 0; n < b.N; n++ {
			for j := range perBlock {
				i := pick(n+1, j)
				tr.Set(smt.HashKey(rawKey(i)), smt.HashValue(value(i, n+1)))
			}
			tr.Root()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perBlock), "ns/update")
	})
	b.Run("mpt", func(b *testing.B) {
		tr := trie.NewEmpty(triedb.NewDatabase(rawdb.NewMemoryDatabase(), nil))
		for i := range records {
			if err := tr.Update(key(i), value(i, 0)); err != nil {
				b.Fatal(err)
			}
		}
		tr.Hash()
		b.ResetTimer()
		for n := 0; n < b.N; n++ {
			for j := range perBlock {
				i := pick(n+1, j)
				if err := tr.Update(key(i), value(i, n+1)); err != nil {
					b.Fatal(err)
				}
			}
			tr.Hash()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perBlock), "ns/update")
	})
}

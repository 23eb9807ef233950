package consensus

import (
	"bytes"
	"testing"

	"github.com/loyal-ledger/loyal/chain"
)

// The decoders of everything that comes from the network or disk: whatever the input, they
// return without panicking, and what they accept re-encodes to exactly the input (one
// encoding per value). `go test` runs the seeds; `go test -fuzz FuzzDecodeVote` searches.

func FuzzDecodeProposal(f *testing.F) {
	for _, p := range []Proposal{signedProposal(f, 1, 5, 2, 1, blockHash("A"), 1234), signedProposal(f, 0, 1, 0, -1, blockHash("B"), 1)} {
		f.Add(p.Encode())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodeProposal(b)
		if err == nil && !bytes.Equal(p.Encode(), b) {
			t.Fatalf("accepted a non-canonical encoding")
		}
	})
}

func FuzzDecodeVote(f *testing.F) {
	for _, v := range []Vote{signedVote(f, 2, chain.Prevote, 5, 2, blockHash("A")), signedVote(f, 3, chain.Precommit, 1, 0, chain.Hash{})} {
		f.Add(v.Encode())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := DecodeVote(b)
		if err == nil && !bytes.Equal(v.Encode(), b) {
			t.Fatalf("accepted a non-canonical encoding")
		}
	})
}

func FuzzDecodePOL(f *testing.F) {
	f.Add(EncodePOL(testState(f).ValidPOL))
	f.Add(EncodePOL(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		votes, err := DecodePOL(b)
		if err == nil && !bytes.Equal(EncodePOL(votes), b) {
			t.Fatalf("accepted a non-canonical encoding")
		}
	})
}

func FuzzDecodeSignedState(f *testing.F) {
	f.Add(testState(f).Encode())
	f.Add((&SignedState{Height: 1, Locked: noBlock, Valid: noBlock}).Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeSignedState(b)
		if err == nil && !bytes.Equal(s.Encode(), b) {
			t.Fatalf("accepted a non-canonical encoding")
		}
	})
}

package consensus

import (
	"bytes"
	"errors"
	"testing"

	"github.com/loyal-ledger/loyal/chain"
)

func testState(tb testing.TB) *SignedState {
	a := blockHash("A")
	s := &SignedState{
		Height: 9, Round: 3,
		Locked: BlockRef{Round: 1, Hash: a, Time: 1001},
		Valid:  BlockRef{Round: 2, Hash: a, Time: 1001},
	}
	for i := 0; i < 3; i++ {
		s.ValidPOL = append(s.ValidPOL, signedVote(tb, i, chain.Prevote, 9, 2, a))
	}
	p := signedProposal(tb, 0, 9, 3, 2, a, 1001)
	pv := signedVote(tb, 0, chain.Prevote, 9, 3, a)
	pc := signedVote(tb, 0, chain.Precommit, 9, 2, a)
	s.Proposal, s.Prevote, s.Precommit = &p, &pv, &pc
	return s
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	p := signedProposal(t, 1, 5, 2, 1, blockHash("A"), 1234)
	if got, err := DecodeProposal(p.Encode()); err != nil || *got != p {
		t.Fatalf("proposal round trip: %v %+v", err, got)
	}
	if len(p.Encode()) != ProposalSize {
		t.Fatalf("proposal encodes to %d bytes, want %d", len(p.Encode()), ProposalSize)
	}
	for _, v := range []Vote{signedVote(t, 2, chain.Prevote, 5, 2, blockHash("A")), signedVote(t, 3, chain.Precommit, 5, 0, chain.Hash{})} {
		if got, err := DecodeVote(v.Encode()); err != nil || *got != v {
			t.Fatalf("vote round trip: %v %+v", err, got)
		}
		if len(v.Encode()) != VoteSize {
			t.Fatalf("vote encodes to %d bytes, want %d", len(v.Encode()), VoteSize)
		}
	}
	for _, s := range []*SignedState{testState(t), {Height: 1, Locked: noBlock, Valid: noBlock}} {
		enc := s.Encode()
		got, err := DecodeSignedState(enc)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Encode(), enc) {
			t.Fatalf("signed state round trip differs")
		}
	}
	pol := testState(t).ValidPOL
	got, err := DecodePOL(EncodePOL(pol))
	if err != nil || len(got) != len(pol) || got[2] != pol[2] {
		t.Fatalf("POL round trip: %v", err)
	}
	if got, err := DecodePOL(EncodePOL(nil)); err != nil || got != nil {
		t.Fatalf("empty POL round trip: %v %v", got, err)
	}
}

func TestDecodeStrict(t *testing.T) {
	p := signedProposal(t, 1, 5, 2, 1, blockHash("A"), 1234)
	v := signedVote(t, 2, chain.Prevote, 5, 2, blockHash("A"))
	s := testState(t)
	mut := func(b []byte, i int, x byte) []byte {
		c := bytes.Clone(b)
		c[i] = x
		return c
	}
	with := func(f func(*Proposal)) []byte { c := p; f(&c); return c.Encode() }
	withVote := func(f func(*Vote)) []byte { c := v; f(&c); return c.Encode() }
	withState := func(f func(*SignedState)) []byte { c := s.clone(); f(c); return c.Encode() }
	cases := []struct {
		name   string
		decode func([]byte) error
		b      []byte
		want   error
	}{
		{"proposal truncated", decodeP, p.Encode()[:ProposalSize-1], ErrMalformed},
		{"proposal trailing byte", decodeP, append(p.Encode(), 0), ErrMalformed},
		{"proposal wrong tag", decodeP, mut(p.Encode(), 0, tagVote), ErrMalformed},
		{"proposal unknown version", decodeP, mut(p.Encode(), 1, 2), ErrUnknownVersion},
		{"proposal POL round not below round", decodeP, with(func(p *Proposal) { p.POLRound = 2 }), ErrBadRound},
		{"proposal POL round below -1", decodeP, with(func(p *Proposal) { p.POLRound = -2 }), ErrBadRound},
		{"proposal round above MaxRound", decodeP, with(func(p *Proposal) { p.Round = MaxRound + 1 }), ErrBadRound},
		{"proposal of the zero hash", decodeP, with(func(p *Proposal) { p.BlockHash = chain.Hash{} }), ErrMalformed},
		{"proposal signature v", decodeP, mut(p.Encode(), ProposalSize-1, 29), ErrMalformed},
		{"vote truncated", decodeV, v.Encode()[:VoteSize-1], ErrMalformed},
		{"vote trailing byte", decodeV, append(v.Encode(), 0), ErrMalformed},
		{"vote wrong tag", decodeV, mut(v.Encode(), 0, tagProposal), ErrMalformed},
		{"vote unknown version", decodeV, mut(v.Encode(), 1, 0), ErrUnknownVersion},
		{"vote type 0", decodeV, withVote(func(v *Vote) { v.Type = 0 }), ErrBadVoteType},
		{"vote type 3", decodeV, withVote(func(v *Vote) { v.Type = 3 }), ErrBadVoteType},
		{"vote round above MaxRound", decodeV, withVote(func(v *Vote) { v.Round = 1 << 31 }), ErrBadRound},
		{"vote signature v", decodeV, mut(v.Encode(), VoteSize-1, 0), ErrMalformed},
		{"state trailing byte", decodeS, append(s.Encode(), 0), ErrMalformed},
		{"state truncated", decodeS, s.Encode()[:100], ErrMalformed},
		{"state presence byte 2", decodeS, mut(withState(func(s *SignedState) { s.ValidPOL, s.Valid, s.Locked = nil, noBlock, noBlock }), 2+8+4+2*blockRefSize+4, 2), ErrMalformed},
		{"state POL count beyond the bytes", decodeS, mut(s.Encode(), 2+8+4+2*blockRefSize, 0x7f), ErrMalformed},
		{"state lock after valid", decodeS, withState(func(s *SignedState) { s.Locked.Round = 3; s.Valid.Round = 2 }), ErrBadState},
		{"state ref round without hash", decodeS, withState(func(s *SignedState) { s.Locked.Hash = chain.Hash{} }), ErrBadState},
		{"state vote of another height", decodeS, withState(func(s *SignedState) { s.Prevote.Height = 8 }), ErrBadState},
		{"state prevote slot holds a precommit", decodeS, withState(func(s *SignedState) { s.Prevote.Type = chain.Precommit }), ErrBadState},
		{"state valid block without POL", decodeS, withState(func(s *SignedState) { s.ValidPOL = nil }), ErrBadState},
		{"state POL for another block", decodeS, withState(func(s *SignedState) { s.ValidPOL[0].BlockHash = blockHash("B") }), ErrBadState},
		{"state POL repeats a validator", decodeS, withState(func(s *SignedState) { s.ValidPOL[1] = s.ValidPOL[0] }), ErrBadState},
		{"POL trailing byte", decodePOL, append(EncodePOL(s.ValidPOL), 0), ErrMalformed},
		{"POL count too large", decodePOL, mut(EncodePOL(s.ValidPOL), 2, 1), ErrMalformed},
	}
	for _, c := range cases {
		if err := c.decode(c.b); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

func decodeP(b []byte) error   { _, err := DecodeProposal(b); return err }
func decodeV(b []byte) error   { _, err := DecodeVote(b); return err }
func decodeS(b []byte) error   { _, err := DecodeSignedState(b); return err }
func decodePOL(b []byte) error { _, err := DecodePOL(b); return err }

// Every field of a proposal is bound by its digest, the chain id too, and a proposal
// digest is never a vote digest.
func TestDigests(t *testing.T) {
	a := blockHash("A")
	base := ProposalDigest(7, 5, 2, 1, a, 1000)
	for name, d := range map[string]chain.Hash{
		"chain":  ProposalDigest(8, 5, 2, 1, a, 1000),
		"height": ProposalDigest(7, 6, 2, 1, a, 1000),
		"round":  ProposalDigest(7, 5, 3, 1, a, 1000),
		"pol":    ProposalDigest(7, 5, 2, -1, a, 1000),
		"block":  ProposalDigest(7, 5, 2, 1, blockHash("B"), 1000),
		"time":   ProposalDigest(7, 5, 2, 1, a, 1001),
		"vote":   chain.VoteDigest(7, chain.Prevote, 5, 2, a),
	} {
		if d == base {
			t.Errorf("changing %s does not change the digest", name)
		}
	}
}

func TestVerify(t *testing.T) {
	p := signedProposal(t, 1, 5, 2, -1, blockHash("A"), 1234)
	if err := p.Verify(testChainID); err != nil {
		t.Fatal(err)
	}
	forged := p
	forged.BlockTime++
	if err := forged.Verify(testChainID); !errors.Is(err, ErrBadSignature) {
		t.Errorf("tampered proposal: %v", err)
	}
	if err := p.Verify(testChainID + 1); !errors.Is(err, ErrBadSignature) {
		t.Errorf("proposal of another chain: %v", err)
	}
	v := signedVote(t, 2, chain.Precommit, 5, 2, blockHash("A"))
	if err := v.Verify(testChainID); err != nil {
		t.Fatal(err)
	}
	claimed := v
	claimed.Validator = testAddr(3)
	if err := claimed.Verify(testChainID); !errors.Is(err, ErrBadSignature) {
		t.Errorf("vote claiming another validator: %v", err)
	}
	bad := v
	bad.Type = 9
	if err := bad.Verify(testChainID); !errors.Is(err, ErrBadVoteType) {
		t.Errorf("vote of type 9: %v", err)
	}
}

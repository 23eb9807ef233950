package verify_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/loyal-ledger/loyal/audit/internal/testchain"
	"github.com/loyal-ledger/loyal/audit/verify"
	"github.com/loyal-ledger/loyal/chain"
)

// The verifier follows the validator set the chain decides (ADR 0003): a chain that adds a
// validator, rotates one's key and removes another verifies, each block's certificate against
// the set of its own height; a certificate signed by a validator the chain removed, or a
// header that commits to another set, fails at its height.
func TestVerifyValidatorChanges(t *testing.T) {
	c := testchain.Build(t, testchain.Options{Blocks: 3, ValidatorChanges: true})
	trusted := c.Genesis.Hash()
	var changes []chain.SetChange
	rep, err := verifyBytes(exportOf(t, c), verify.Options{Genesis: trusted, Observe: func(ob *verify.Observed) error {
		changes = ob.SetChanges
		return nil
	}})
	if err != nil {
		t.Fatalf("%v (%+v)", err, rep.Failure)
	}
	if rep.StateRoot != c.Ledger.Head().StateRoot || rep.Height != c.Ledger.Head().Height {
		t.Fatalf("verified %d at %s, ledger %d at %s", rep.Height, rep.StateRoot, c.Ledger.Head().Height, c.Ledger.Head().StateRoot)
	}
	acts := c.Ledger.Activations()
	if len(changes) != 3 || len(acts) != 3 || len(changes[0].Validators) != 5 || len(changes[2].Validators) != 4 {
		t.Fatalf("the verifier followed %d changes, the ledger %d activations", len(changes), len(acts))
	}
	for i, sc := range changes {
		a := acts[i]
		if sc.Header.Height+1 != a.Height || chain.ValidatorSetHash(sc.Validators) != chain.ValidatorSetHash(a.Rules.Validators) ||
			sc.Certificate.Height != sc.Header.Height || sc.Certificate.BlockHash != sc.Header.Hash() {
			t.Fatalf("change %d: the verifier's at %d (certificate of %d), the ledger's activation at %d", i, sc.Header.Height, sc.Certificate.Height, a.Height)
		}
	}
	removed := acts[2].Height // validator 0 is out from here
	v0 := testchain.Key(t, "validator 0")
	cases := []struct {
		name  string
		raw   []byte
		at    uint64
		check string
		says  string
	}{
		{"a certificate with the removed validator's vote", rewrite(t, c, func(bs []*chain.Block) []*chain.Block {
			// The certificate of block `removed`, carried by the next block, gets validator
			// 0's real precommit: a vote of a key no longer in the set.
			next := bs[removed]
			sig, err := chain.SignVote(v0, chain.VoteDigest(c.Genesis.ChainID, chain.Precommit, removed, next.LastCommit.Round, next.LastCommit.BlockHash))
			if err != nil {
				t.Fatal(err)
			}
			next.LastCommit.Sigs = append([]chain.CommitSig{{Validator: testchain.Addr(v0), Sig: sig}}, next.LastCommit.Sigs...)
			next.Header.LastCommitHash = next.LastCommit.Hash()
			return bs
		}), removed + 1, verify.CheckCertificate, "non-validator"},
		{"a header committing to another set", rewrite(t, c, func(bs []*chain.Block) []*chain.Block {
			bs[removed-2].Header.NextValidators[0] ^= 1
			return bs
		}), removed - 1, verify.CheckHeader, "next validator set"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := verifyWithin(t, tc.raw, trusted)
			if !errors.Is(err, verify.ErrFailed) || rep.Failure == nil {
				t.Fatalf("verify: %v, want a failure", err)
			}
			if f := rep.Failure; f.Height != tc.at || f.Check != tc.check || !strings.Contains(f.Error, tc.says) {
				t.Fatalf("failure %+v, want %s at %d saying %q", f, tc.check, tc.at, tc.says)
			}
		})
	}
}

// A checkpoint of a chain whose validators changed carries the changes, and resuming checks
// its records' validator sets against them, from genesis's: resumes at every height around
// the changes end as a whole verification does, and a checkpoint stripped of its changes,
// which would let its own records name who certifies its header, is refused.
func TestCheckpointCarriesValidatorChanges(t *testing.T) {
	c := testchain.Build(t, testchain.Options{Blocks: 2, ValidatorChanges: true})
	whole, err := verifyBytes(exportOf(t, c), verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	acts := c.Ledger.Activations()
	var heights []uint64
	for _, a := range acts {
		heights = append(heights, a.Height-2, a.Height-1, a.Height, a.Height+1)
	}
	for _, h := range heights {
		cp, err := verify.ReadCheckpoint(bytes.NewReader(checkpointAt(t, c, h)))
		if err != nil {
			t.Fatal(err)
		}
		rep, err := verifyBytes(exportOf(t, c), verify.Options{Since: cp})
		if err != nil {
			t.Fatalf("since %d: %v (%+v)", h, err, rep.Failure)
		}
		if rep.Height != whole.Height || rep.StateRoot != whole.StateRoot {
			t.Fatalf("since %d: %+v, whole %+v", h, rep, whole)
		}
	}

	// The changes are the file's last field: their count, then each. Replace them by none.
	h := acts[2].Height + 1
	raw := checkpointAt(t, c, h)
	var tail []byte
	for _, a := range acts {
		prev := c.Blocks[a.Height-2] // the block before the activation commits to the new set
		sc := chain.SetChange{Header: prev.Header, Certificate: *c.Blocks[a.Height-1].LastCommit, Validators: a.Rules.Validators}
		enc := sc.Encode()
		tail = append(append(tail, binary.BigEndian.AppendUint32(nil, uint32(len(enc)))...), enc...)
	}
	count := func(n uint64) []byte {
		return append(binary.BigEndian.AppendUint32(nil, 8), binary.BigEndian.AppendUint64(nil, n)...)
	}
	section := append(count(uint64(len(acts))), tail...)
	if !bytes.HasSuffix(raw, section) {
		t.Fatal("the checkpoint does not end with the chain's three set changes")
	}
	stripped := append(bytes.Clone(raw[:len(raw)-len(section)]), count(0)...)
	cp, err := verify.ReadCheckpoint(bytes.NewReader(stripped))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := verifyBytes(exportOf(t, c), verify.Options{Since: cp})
	if !errors.Is(err, verify.ErrFailed) || rep.Failure == nil || rep.Failure.Check != verify.CheckCheckpoint || !strings.Contains(rep.Failure.Error, "validator-set changes") {
		t.Fatalf("a checkpoint without its set changes: %v (%+v)", err, rep.Failure)
	}
}

// Checkpoints chain: a checkpoint written by a verification that resumed from one at a block
// committing to a new set still carries that change, so the next resume checks.
func TestCheckpointsChainAcrossAChange(t *testing.T) {
	c := testchain.Build(t, testchain.Options{Blocks: 2, ValidatorChanges: true})
	at := c.Ledger.Activations()[0].Height - 1 // this block's header commits to the new set
	first, err := verify.ReadCheckpoint(bytes.NewReader(checkpointAt(t, c, at)))
	if err != nil {
		t.Fatal(err)
	}
	end := c.Ledger.Head().Height
	rep, err := verifyBytes(exportOf(t, c), verify.Options{Since: first, StopAt: end - 1})
	if err != nil {
		t.Fatalf("%v (%+v)", err, rep.Failure)
	}
	var buf bytes.Buffer
	if _, err := rep.Checkpoint().WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	second, err := verify.ReadCheckpoint(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if rep, err := verifyBytes(exportOf(t, c), verify.Options{Since: second}); err != nil || rep.Height != end {
		t.Fatalf("resumed from the second checkpoint: %v (%+v)", err, rep.Failure)
	}
}

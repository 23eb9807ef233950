package verify_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/loyal-ledger/loyal/audit/internal/testchain"
	"github.com/loyal-ledger/loyal/audit/verify"
	"github.com/loyal-ledger/loyal/chain"
)

// checkpointAt verifies c to height h and returns the checkpoint file it leaves.
func checkpointAt(t *testing.T, c *testchain.Chain, h uint64) []byte {
	t.Helper()
	rep, err := verifyBytes(exportOf(t, c), verify.Options{StopAt: h})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := rep.Checkpoint().WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A verification resumed from a checkpoint checks only the later blocks and ends where a
// whole one ends: same height, state root and programs.
func TestResumeFromCheckpoint(t *testing.T) {
	c := testchain.Build(t, testchain.Options{Blocks: 6})
	whole, err := verifyBytes(exportOf(t, c), verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []uint64{1, 7, uint64(len(c.Blocks))} {
		cp, err := verify.ReadCheckpoint(bytes.NewReader(checkpointAt(t, c, h)))
		if err != nil {
			t.Fatal(err)
		}
		var observed []uint64
		rep, err := verifyBytes(exportOf(t, c), verify.Options{Since: cp, Observe: func(o *verify.Observed) error {
			observed = append(observed, o.Block.Header.Height)
			return nil
		}})
		if err != nil {
			t.Fatalf("since %d: %v", h, err)
		}
		if rep.Height != whole.Height || rep.StateRoot != whole.StateRoot || rep.Since != h || rep.Blocks != whole.Blocks-h ||
			len(observed) != int(whole.Blocks-h) || (len(observed) > 0 && observed[0] != h+1) {
			t.Fatalf("since %d: %+v (observed %v); whole %+v", h, rep, observed, whole)
		}
		for i, p := range rep.Programs {
			if p != whole.Programs[i] {
				t.Fatalf("since %d: %+v, whole %+v", h, p, whole.Programs[i])
			}
		}
	}
}

// A checkpoint is checked, not trusted: every changed byte fails reading or the verification
// that resumes from it (its records against its header's root, its header against the
// certificate the next block carries, its tallies against the programs' records).
func TestTamperedCheckpointIsCaught(t *testing.T) {
	c := testchain.Build(t, testchain.Options{Blocks: 3})
	good := checkpointAt(t, c, 6)
	raw := exportOf(t, c)
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 400 {
		bad := bytes.Clone(good)
		off := rng.IntN(len(bad))
		if i < len(bad) && i < 120 {
			off = i // every byte of the head: magic, version, genesis, header
		}
		bad[off] ^= byte(1 + rng.IntN(255))
		cp, err := verify.ReadCheckpoint(bytes.NewReader(bad))
		if err != nil {
			if chain.Code(err) != "bad_checkpoint" {
				t.Fatalf("byte %d: %v", off, err)
			}
			continue
		}
		if _, err := verifyBytes(raw, verify.Options{Since: cp}); !errors.Is(err, verify.ErrFailed) {
			t.Fatalf("byte %d changed: resumed without failure (%v)", off, err)
		}
	}
}

// Resuming checks the blocks before the checkpoint by their hash links: a changed byte in
// that prefix of the export fails, though those blocks are not executed again.
func TestResumeChecksThePrefixLinks(t *testing.T) {
	c := testchain.Build(t, testchain.Options{Blocks: 3})
	const h = 6
	cp, err := verify.ReadCheckpoint(bytes.NewReader(checkpointAt(t, c, h)))
	if err != nil {
		t.Fatal(err)
	}
	good := exportOf(t, c)
	// A header field of block 3 (its time, inside the block's record): find block 3's bytes.
	blk := c.Blocks[2].Encode()
	off := bytes.Index(good, blk)
	if off < 0 {
		t.Fatal("block 3 not found in the export")
	}
	for _, at := range []int{off + 20, off + len(blk) - 5} { // in the header; in the carried certificate
		bad := bytes.Clone(good)
		bad[at] ^= 1
		if _, err := verifyBytes(bad, verify.Options{Since: cp}); !errors.Is(err, verify.ErrFailed) {
			t.Fatalf("byte %d of block 3 changed, resumed at %d: %v", at-off, h, err)
		}
	}
	if _, err := verifyBytes(good, verify.Options{Since: cp}); err != nil {
		t.Fatal(err)
	}
}

// There is no checkpoint of a chain with no block (nothing would tie its header to the
// genesis), and one relabelled as height 0 is refused.
func TestNoCheckpointAtHeightZero(t *testing.T) {
	c := testchain.Build(t, testchain.Options{Blocks: 1})
	empty := &testchain.Chain{Genesis: c.Genesis}
	rep, err := verifyBytes(exportOf(t, empty), verify.Options{})
	if err != nil || rep.Checkpoint() != nil || rep.StateRoot == (chain.Hash{}) {
		t.Fatalf("an empty chain: %+v %v, checkpoint %v", rep, err, rep.Checkpoint())
	}
	cp, err := verify.ReadCheckpoint(bytes.NewReader(checkpointAt(t, c, 4)))
	if err != nil {
		t.Fatal(err)
	}
	cp.Header.Height = 0
	if _, err := verifyBytes(exportOf(t, empty), verify.Options{Since: cp}); !errors.Is(err, verify.ErrFailed) {
		t.Fatalf("a checkpoint relabelled as height 0: %v", err)
	}
}

package testnet_test

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/loyal-ledger/loyal/audit/export"
	"github.com/loyal-ledger/loyal/audit/remote"
	"github.com/loyal-ledger/loyal/audit/verify"
	"github.com/loyal-ledger/loyal/testnet"
)

// An auditor verifies a running four-validator network from any node's public API, and from
// the export of it, with the genesis pinned: every node's chain verifies to the same state
// root, and each program's points add up.
func TestAuditRunningNetwork(t *testing.T) {
	h := newHarness(t, testnet.ClusterOptions{Validators: 4})
	alice := newKey(t)
	var head uint64
	for i := 0; i < 6; i++ {
		head = h.commit(i%4, h.c.Owner, h.earn(addr(alice), uint64(10+i), "o-"+strconv.Itoa(i))).Height
	}
	trusted := h.c.Genesis.Hash()
	var root string
	for i := 0; i < 4; i++ {
		h.waitHeight(i, head)
		ctx := ctxFor(t, 30*time.Second)
		src, err := remote.Open(ctx, h.c.Client(i), head)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := verify.Verify(ctx, src, verify.Options{Genesis: trusted})
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
		if rep.Height != head || rep.Failure != nil || len(rep.Programs) == 0 {
			t.Fatalf("node %d: %+v", i, rep)
		}
		if i == 0 {
			root = rep.StateRoot.Hex()
		} else if rep.StateRoot.Hex() != root {
			t.Fatalf("node %d verifies to %s, node 0 to %s", i, rep.StateRoot.Hex(), root)
		}
		for _, p := range rep.Programs {
			if p.Outstanding != p.Balances {
				t.Fatalf("node %d: %s does not add up: %+v", i, p.Symbol, p)
			}
		}
	}

	var buf bytes.Buffer
	ctx := ctxFor(t, 30*time.Second)
	to, err := remote.Export(ctx, h.c.Client(2), &buf, 0)
	if err != nil || to < head {
		t.Fatalf("export to %d: %v", to, err)
	}
	r, err := export.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := verify.Verify(ctx, r, verify.Options{Genesis: trusted})
	if err != nil || rep.Height != to {
		t.Fatalf("the export verifies to %d: %v", rep.Height, err)
	}
}

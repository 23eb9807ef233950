package node_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/loyal-ledger/loyal/audit/export"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node"
)

// A stopped node's chain exports whole: its genesis, every block as the ledger holds it, and
// the last block's certificate — the canonical one for a height below the head. A running
// node's store is not read, and a failed export leaves no file.
func TestExportFile(t *testing.T) {
	owner, alice := testKey(t, "owner"), testKey(t, "alice")
	home := initHome(t, owner, "pebble")
	r := start(t, home)
	c := newClient(t, r)
	c.commit(owner, &chain.RegisterProgram{Symbol: "ACME", Name: "Acme"})
	c.commit(owner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 10, OrderRef: "a"}}})
	last := c.commit(alice, &chain.Transfer{Program: "ACME", To: addr(owner), Amount: 3})

	out := filepath.Join(t.TempDir(), "chain.export")
	if _, err := node.ExportFile(home, out, 0, nil); err == nil {
		t.Fatal("exported a running node's store")
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a failed export left %s: %v", out, err)
	}
	r.stop(t)

	n, err := node.Open(home, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := n.Ledger()
	head := l.Head().Height
	if head < last.Height {
		t.Fatalf("head %d below the transfer's height %d", head, last.Height)
	}
	want := make([]*chain.Block, head)
	for h := range head {
		if want[h], err = l.Block(h + 1); err != nil {
			t.Fatal(err)
		}
	}
	seen, err := l.SeenCommit(head)
	if err != nil {
		t.Fatal(err)
	}
	genesis := n.Ledger().Genesis().Hash()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	for _, to := range []uint64{0, head - 1} {
		res, err := node.ExportFile(home, out, to, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantHeight := to
		if to == 0 {
			wantHeight = head
		}
		if res.Genesis != genesis || res.Height != wantHeight || res.Canonical != (to != 0) {
			t.Fatalf("to %d: %+v", to, res)
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		rd, err := export.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		if rd.Genesis().Hash() != genesis {
			t.Fatalf("genesis %s, want %s", rd.Genesis().Hash(), genesis)
		}
		for h := uint64(1); ; h++ {
			blk, err := rd.Next()
			if err == io.EOF {
				if h-1 != wantHeight {
					t.Fatalf("to %d: %d blocks, want %d", to, h-1, wantHeight)
				}
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if blk.Hash() != want[h-1].Hash() {
				t.Fatalf("block %d differs from the ledger's", h)
			}
		}
		f.Close()
		final := rd.Final()
		wantFinal := seen
		if to != 0 {
			wantFinal = want[to].LastCommit // carried by the block after it
		}
		if final.Hash() != wantFinal.Hash() {
			t.Fatalf("to %d: final certificate %+v, want %+v", to, final, wantFinal)
		}
	}
	if _, err := node.ExportFile(home, out, head+1, nil); err == nil {
		t.Fatalf("exported to %d past the head %d", head+1, head)
	}
}

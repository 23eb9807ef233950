package ledger_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
	"github.com/loyal-ledger/loyal/chain/store/backends"
)

// threeBlocks makes a pebble store in dir holding three blocks and returns them.
func threeBlocks(t *testing.T, net *network, dir string) []*chain.Block {
	t.Helper()
	nd := openNode(t, net, "pebble", dir)
	defer nd.close(t)
	var blks []*chain.Block
	for i := range 3 {
		blks = append(blks, nd.produce(t, genesisTime+uint64(10*(i+1))))
	}
	return blks
}

// Open checks the head block against the head record: a store whose head block is gone, or
// holds another block in its place, is refused as corrupt (it used to open, and served a head
// it could not show).
func TestOpenChecksTheHeadBlock(t *testing.T) {
	net := newNetwork(t, chain.DefaultParams())
	for _, tc := range []struct {
		name   string
		damage func(blks []*chain.Block) []byte // the new head block record; nil deletes it
		want   string
	}{
		{"missing", func([]*chain.Block) []byte { return nil }, "ledger: store is corrupt: the head block 3 is not stored"},
		{"another block", func(blks []*chain.Block) []byte { return blks[1].Encode() }, "ledger: store is corrupt: the stored head block 3 hashes to " + "%s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			blks := threeBlocks(t, net, dir)
			db, err := backends.Open("pebble", dir, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			b := db.NewBatch()
			if v := tc.damage(blks); v == nil {
				b.Delete(ledger.BlockKey(3))
			} else {
				b.Set(ledger.BlockKey(3), v)
			}
			if err := b.Commit(true); err != nil {
				t.Fatal(err)
			}
			b.Close()
			_, err = ledger.Open(db, net.genesis)
			if !errors.Is(err, ledger.ErrCorrupt) {
				t.Fatalf("Open = %v, want ErrCorrupt", err)
			}
			want := tc.want
			if strings.Contains(want, "%s") {
				want = strings.Replace(want, "%s", blks[1].Hash().String(), 1) + ", the head record says " + blks[2].Hash().String()
			}
			if err.Error() != want {
				t.Fatalf("Open = %q\nwant   %q", err, want)
			}
		})
	}
}

// ReadHead reads a store's head without opening the ledger, and says when there is none.
func TestReadHead(t *testing.T) {
	net := newNetwork(t, chain.DefaultParams())
	dir := t.TempDir()
	db, err := backends.Open("pebble", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := ledger.ReadHead(db); ok || err != nil {
		t.Fatalf("empty store: ok %v, err %v; want false, nil", ok, err)
	}
	db.Close()
	blks := threeBlocks(t, net, dir)
	if db, err = backends.Open("pebble", dir, nil); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	head, ok, err := ledger.ReadHead(db)
	want := ledger.Head{Height: 3, Hash: blks[2].Hash(), Time: blks[2].Header.Time, StateRoot: blks[2].Header.StateRoot}
	if !ok || err != nil || head != want {
		t.Fatalf("ReadHead = %+v, %v, %v; want %+v", head, ok, err, want)
	}
}

package export_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/loyal-ledger/loyal/audit/export"
	"github.com/loyal-ledger/loyal/audit/internal/testchain"
	"github.com/loyal-ledger/loyal/chain"
)

// write exports c's blocks up to height n, with the last one's certificate.
func write(t testing.TB, c *testchain.Chain, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := export.NewWriter(&buf, c.Genesis)
	if err != nil {
		t.Fatal(err)
	}
	for _, blk := range c.Blocks[:n] {
		if err := w.Block(blk); err != nil {
			t.Fatal(err)
		}
	}
	var final *chain.Commit
	switch {
	case n == 0:
	case n < len(c.Blocks):
		final = c.Blocks[n].LastCommit
	default:
		final = c.Final
	}
	if err := w.Finish(final); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// readAll reads an export to its end.
func readAll(raw []byte) (*export.Reader, []*chain.Block, error) {
	r, err := export.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, nil, err
	}
	var blocks []*chain.Block
	for {
		blk, err := r.Next()
		if err == io.EOF {
			return r, blocks, nil
		}
		if err != nil {
			return r, blocks, err
		}
		blocks = append(blocks, blk)
	}
}

// What is written is read back: the genesis (same hash), every block (same hash, in order)
// and the final certificate with its canonical flag.
func TestRoundTrip(t *testing.T) {
	c := testchain.Build(t, testchain.Options{Blocks: 3})
	for _, n := range []int{0, 1, len(c.Blocks) - 1, len(c.Blocks)} {
		r, blocks, err := readAll(write(t, c, n))
		if err != nil {
			t.Fatalf("%d blocks: %v", n, err)
		}
		if r.Genesis().Hash() != c.Genesis.Hash() {
			t.Fatalf("genesis hash %s, want %s", r.Genesis().Hash(), c.Genesis.Hash())
		}
		if len(blocks) != n || r.Height() != uint64(n) {
			t.Fatalf("read %d blocks to height %d, want %d", len(blocks), r.Height(), n)
		}
		for i, blk := range blocks {
			if blk.Hash() != c.Blocks[i].Hash() {
				t.Fatalf("block %d: hash %s, want %s", i+1, blk.Hash(), c.Blocks[i].Hash())
			}
		}
		final := r.Final()
		switch {
		case n == 0 && final != nil:
			t.Fatalf("a certificate in an export of no block")
		case n > 0 && (final == nil || final.Height != uint64(n) || final.BlockHash != c.Blocks[n-1].Hash()):
			t.Fatalf("final certificate %+v, want one of block %d", final, n)
		}
	}
}

// The writer refuses what would make a wrong export.
func TestWriterRefuses(t *testing.T) {
	c := testchain.Build(t, testchain.Options{Blocks: 1})
	w, err := export.NewWriter(io.Discard, c.Genesis)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Block(c.Blocks[1]); err == nil {
		t.Fatal("block 2 accepted as the first")
	}
	if err := w.Block(c.Blocks[0]); err != nil {
		t.Fatal(err)
	}
	if err := w.Finish(nil); err == nil {
		t.Fatal("finished without the last block's certificate")
	}
	if err := w.Finish(c.Blocks[1].LastCommit); err != nil {
		t.Fatal(err)
	}
	if err := w.Block(c.Blocks[1]); err == nil {
		t.Fatal("a block after the end")
	}
}

// record locates the records of an export: offset of each record's tag.
func records(t *testing.T, raw []byte) []int {
	var offs []int
	for off := len(export.Magic) + 1; off < len(raw); {
		offs = append(offs, off)
		off += 5 + int(binary.BigEndian.Uint32(raw[off+1:]))
	}
	return offs
}

// Every structural fault is an error wrapping ErrBadExport (or chain's decoding error) that
// names where: nothing passes, nothing panics.
func TestStructuralFaults(t *testing.T) {
	c := testchain.Build(t, testchain.Options{Blocks: 2})
	good := write(t, c, len(c.Blocks))
	offs := records(t, good) // G, B1…Bn, C, E
	n := len(c.Blocks)
	block := func(h int) []byte { // the whole record of block h
		return good[offs[h]:offs[h+1]]
	}
	splice := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	head, tail := good[:offs[1]], good[offs[n+1]:] // magic+genesis; certificate+end
	cases := map[string][]byte{
		"empty":                         nil,
		"wrong magic":                   append([]byte("LOYALEXQ"), good[8:]...),
		"unknown version":               splice(good[:8], []byte{2}, good[9:]),
		"truncated in a block":          good[:offs[2]+10],
		"truncated at a block boundary": good[:offs[n]],
		"no end":                        good[:offs[n+2]],
		"bytes after the end":           append(bytes.Clone(good), 0),
		"a block dropped":               splice(head, block(1), block(3), block(4), tail[0:0], good[offs[5]:]),
		"a block duplicated":            splice(head, block(1), block(1), good[offs[2]:]),
		"two blocks swapped":            splice(head, block(2), block(1), good[offs[3]:]),
		"end count wrong":               splice(good[:len(good)-1], []byte{good[len(good)-1] + 1}),
		"record too long":               splice(good[:offs[1]+1], []byte{0x7f, 0xff, 0xff, 0xff}, good[offs[1]+5:]),
		"certificate missing":           splice(good[:offs[n+1]], good[offs[n+2]:]),
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := readAll(raw)
			if err == nil {
				t.Fatal("read without error")
			}
			if chain.Code(err) == "internal" {
				t.Fatalf("an error with no code: %v", err)
			}
			t.Log(err)
		})
	}
	if _, _, err := readAll(good); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(func() error { _, _, err := readAll(good[:offs[n]]); return err }(), export.ErrBadExport) {
		t.Fatal("a truncated file is not ErrBadExport")
	}
}

// FuzzReader: any input is read to an error or to its end, never a panic; what reads to its
// end writes back to the same bytes.
func FuzzReader(f *testing.F) {
	c := testchain.Build(f, testchain.Options{Blocks: 1})
	for n := range len(c.Blocks) + 1 {
		f.Add(write(f, c, n))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, blocks, err := readAll(raw)
		if err != nil {
			return
		}
		var buf bytes.Buffer
		w, err := export.NewWriter(&buf, r.Genesis())
		if err != nil {
			t.Fatal(err)
		}
		for _, blk := range blocks {
			if err := w.Block(blk); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Finish(r.Final()); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), raw) {
			t.Fatalf("an export read whole writes back differently")
		}
	})
}

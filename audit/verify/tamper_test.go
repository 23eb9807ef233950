package verify_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/loyal-ledger/loyal/audit/export"
	"github.com/loyal-ledger/loyal/audit/internal/testchain"
	"github.com/loyal-ledger/loyal/audit/verify"
	"github.com/loyal-ledger/loyal/chain"
)

// verifyWithin verifies raw, failing the test if it takes longer than a minute (a hang).
func verifyWithin(t *testing.T, raw []byte, trusted chain.Hash) (*verify.Report, error) {
	type result struct {
		rep *verify.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- result{err: fmt.Errorf("panic: %v", p)}
			}
		}()
		rep, err := verifyBytes(raw, verify.Options{Genesis: trusted, Workers: 1})
		done <- result{rep, err}
	}()
	select {
	case r := <-done:
		return r.rep, r.err
	case <-time.After(time.Minute):
		t.Fatal("verify hangs")
		return nil, nil
	}
}

// Every single byte changed anywhere in a real export — holding two programs, exchanges,
// expiries, reversals, redemptions and settlements — makes verify fail with a coded error:
// never a pass, a panic or a hang. The auditor pins the genesis by its hash.
func TestEveryChangedByteIsCaught(t *testing.T) {
	c := testchain.Build(t, testchain.Options{Blocks: 7})
	good := exportOf(t, c)
	trusted := c.Genesis.Hash()
	rep, err := verifyBytes(good, verify.Options{Genesis: trusted})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range rep.Programs { // what the export must hold for the test to mean anything
		if p.Symbol == "ACME" && (p.Expired == 0 || p.Reversed == 0 || p.ExchangedOut == 0 || p.Redeemed == 0) {
			t.Fatalf("the export does not expire, reverse, exchange and redeem points: %+v", p)
		}
	}
	const mutations = 1200
	rng := rand.New(rand.NewPCG(12, 34))
	type mutation struct{ off, xor int }
	muts := make([]mutation, mutations)
	for i := range muts {
		muts[i] = mutation{rng.IntN(len(good)), 1 + rng.IntN(255)}
	}
	var (
		mu     sync.Mutex
		missed []string
		wg     sync.WaitGroup
		next   = make(chan mutation)
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for m := range next {
				raw := bytes.Clone(good)
				raw[m.off] ^= byte(m.xor)
				_, err := verifyWithin(t, raw, trusted)
				if err == nil || chain.Code(err) == "internal" {
					mu.Lock()
					missed = append(missed, fmt.Sprintf("byte %d ^ %#x: %v", m.off, m.xor, err))
					mu.Unlock()
				}
			}
		})
	}
	for _, m := range muts {
		next <- m
	}
	close(next)
	wg.Wait()
	if len(missed) > 0 {
		t.Fatalf("%d of %d changed bytes not caught, e.g. %s", len(missed), mutations, missed[0])
	}
}

// rewrite exports c's blocks after edit has changed them (edit gets copies it may change,
// reorder or drop); rewriteFinal with final as the last certificate. Both write the records
// by hand, as a forger would.
func rewrite(t *testing.T, c *testchain.Chain, edit func(blocks []*chain.Block) []*chain.Block) []byte {
	return rewriteFinal(t, c, edit, c.Final)
}

func rewriteFinal(t *testing.T, c *testchain.Chain, edit func(blocks []*chain.Block) []*chain.Block, final *chain.Commit) []byte {
	t.Helper()
	blocks := make([]*chain.Block, len(c.Blocks))
	for i, b := range c.Blocks {
		var err error
		if blocks[i], err = chain.DecodeBlock(b.Encode()); err != nil {
			t.Fatal(err)
		}
	}
	blocks = edit(blocks)
	var buf bytes.Buffer
	buf.WriteString(export.Magic)
	buf.WriteByte(export.Version)
	g, _ := exportRecords(t, exportOf(t, c))
	buf.Write(g)
	for _, b := range blocks {
		writeRecord(&buf, 'B', b.Encode())
	}
	writeRecord(&buf, 'C', final.Encode())
	writeRecord(&buf, 'E', binary.BigEndian.AppendUint64(nil, uint64(len(blocks))))
	return buf.Bytes()
}

// finalWith is c's export with its final certificate changed by edit, written by hand as a
// forger would (the writer checks what it is given).
func finalWith(t *testing.T, c *testchain.Chain, edit func(*chain.Commit)) []byte {
	f, err := chain.DecodeCommit(c.Final.Encode())
	if err != nil {
		t.Fatal(err)
	}
	edit(f)
	return rewriteFinal(t, c, func(bs []*chain.Block) []*chain.Block { return bs }, f)
}

// exportRecords returns the genesis record of an export, whole, and the rest.
func exportRecords(t *testing.T, raw []byte) ([]byte, []byte) {
	off := len(export.Magic) + 1
	n := int(binary.BigEndian.Uint32(raw[off+1:]))
	return raw[off : off+5+n], raw[off+5+n:]
}

func writeRecord(buf *bytes.Buffer, tag byte, payload []byte) {
	buf.WriteByte(tag)
	buf.Write(binary.BigEndian.AppendUint32(nil, uint32(len(payload))))
	buf.Write(payload)
}

// Each kind of tampering an auditor fears fails at the height where it was made (or the one
// after it, whose certificate and link cover it), with the check that caught it.
func TestTamperingNamesTheHeight(t *testing.T) {
	c := testchain.Build(t, testchain.Options{Blocks: 5})
	trusted := c.Genesis.Hash()
	const h = 6 // the block tampered with: a block of customer movements (see testchain)
	blk := func(bs []*chain.Block) *chain.Block { return bs[h-1] }
	cases := []struct {
		name   string
		raw    []byte
		height []uint64 // where the failure may be named
	}{
		{"a header field", rewrite(t, c, func(bs []*chain.Block) []*chain.Block {
			blk(bs).Header.Time++
			return bs
		}), []uint64{h, h + 1}},
		{"an amount", rewrite(t, c, func(bs []*chain.Block) []*chain.Block {
			tx := blk(bs).Txs[0]
			p := *tx.Payload.(*chain.Transfer)
			p.Amount++
			blk(bs).Txs[0] = resigned(tx, &p, tx.Sig)
			return bs
		}), []uint64{h}},
		{"a signature", rewrite(t, c, func(bs []*chain.Block) []*chain.Block {
			tx := blk(bs).Txs[1]
			sig := tx.Sig
			sig[10] ^= 1
			blk(bs).Txs[1] = resigned(tx, tx.Payload, sig)
			return bs
		}), []uint64{h}},
		{"a certificate vote", rewrite(t, c, func(bs []*chain.Block) []*chain.Block {
			blk(bs).LastCommit.Sigs[0].Sig[20] ^= 1
			return bs
		}), []uint64{h}},
		// A forger who also makes the header commit to the forged certificate gets past the
		// header's hash and meets the certificate check itself.
		{"a certificate vote, the header made to match", rewrite(t, c, func(bs []*chain.Block) []*chain.Block {
			blk(bs).LastCommit.Sigs[0].Sig[20] ^= 1
			blk(bs).Header.LastCommitHash = blk(bs).LastCommit.Hash()
			return bs
		}), []uint64{h}},
		{"a certificate short of two thirds, the header made to match", rewrite(t, c, func(bs []*chain.Block) []*chain.Block {
			blk(bs).LastCommit.Sigs = blk(bs).LastCommit.Sigs[:2]
			blk(bs).Header.LastCommitHash = blk(bs).LastCommit.Hash()
			return bs
		}), []uint64{h}},
		// Damage after the last block is named at its height or the next (reading past it).
		{"the final certificate short of two thirds", finalWith(t, c, func(f *chain.Commit) { f.Sigs = f.Sigs[:2] }), []uint64{uint64(len(c.Blocks))}},
		{"the final certificate of another block", finalWith(t, c, func(f *chain.Commit) { *f = *c.Blocks[len(c.Blocks)-1].LastCommit }), []uint64{uint64(len(c.Blocks)), uint64(len(c.Blocks)) + 1}},
		{"transactions reordered", rewrite(t, c, func(bs []*chain.Block) []*chain.Block {
			txs := blk(bs).Txs
			txs[0], txs[1] = txs[1], txs[0]
			return bs
		}), []uint64{h}},
		{"a transaction dropped", rewrite(t, c, func(bs []*chain.Block) []*chain.Block {
			blk(bs).Txs = blk(bs).Txs[1:]
			return bs
		}), []uint64{h}},
		{"a block dropped", rewrite(t, c, func(bs []*chain.Block) []*chain.Block {
			return append(bs[:h-1:h-1], bs[h:]...)
		}), []uint64{h}},
		{"a block duplicated", rewrite(t, c, func(bs []*chain.Block) []*chain.Block {
			return append(bs[:h:h], bs[h-1:]...)
		}), []uint64{h + 1}},
		{"two blocks swapped", rewrite(t, c, func(bs []*chain.Block) []*chain.Block {
			bs[h-1], bs[h] = bs[h], bs[h-1]
			return bs
		}), []uint64{h}},
		{"truncated in the final certificate", exportOf(t, c)[:len(exportOf(t, c))-20], []uint64{uint64(len(c.Blocks)), uint64(len(c.Blocks)) + 1}},
		{"truncated in a block", exportOf(t, c)[:len(exportOf(t, c))/2], nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := verifyWithin(t, tc.raw, trusted)
			if !errors.Is(err, verify.ErrFailed) {
				t.Fatalf("verify: %v, want a failure", err)
			}
			if rep.Failure == nil || (tc.height != nil && !containsHeight(tc.height, rep.Failure.Height)) {
				t.Fatalf("failure %+v, want one at height %v", rep.Failure, tc.height)
			}
			t.Logf("%s at %d: %s", rep.Failure.Check, rep.Failure.Height, rep.Failure.Error)
		})
	}
}

// resigned is tx with payload p and signature sig, as a forger would write it.
func resigned(tx *chain.Tx, p chain.Payload, sig [65]byte) *chain.Tx {
	c := chain.NewTx(tx.ChainID, tx.Nonce, tx.ValidUntil, p)
	c.Sig = sig
	return c
}

func containsHeight(hs []uint64, h uint64) bool {
	for _, x := range hs {
		if x == h {
			return true
		}
	}
	return false
}

package mempool_test

import (
	"flag"
	"fmt"
	"slices"
	"sync"
	"testing"

	"pgregory.net/rapid"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node/internal/mempool"
)

// The property test's universe: a few senders, each with a few nonces in three variants (no
// expiry; an expiry; larger), signed once for all runs.
const (
	propSenders  = 3
	propNonces   = 16
	propVariants = 3
)

type propTx struct {
	tx     *chain.Tx
	sender chain.Address
	since  uint64 // when the model admitted it
}

var (
	propOnce    sync.Once
	propTxs     []propTx // every signed tx of the universe
	propWallets []chain.Address
)

func propUniverse(t testing.TB) ([]propTx, []chain.Address) {
	propOnce.Do(func() {
		for s := range propSenders {
			w := newWallet(t, 500+s)
			propWallets = append(propWallets, w.addr)
			for n := range uint64(propNonces) {
				for v := range uint64(propVariants) {
					o := txOpts{amount: v + 1}
					switch v {
					case 1:
						o.validUntil = 20 + 15*n
					case 2:
						o.memo = "a larger transfer"
					}
					propTxs = append(propTxs, propTx{tx: w.txWith(t, n, o), sender: w.addr})
				}
			}
		}
	})
	return propTxs, propWallets
}

// propIndex is the index in the universe of sender s's tx of nonce n in variant v.
func propIndex(s int, n uint64, v int) int { return (s*propNonces+int(n))*propVariants + v }

// model is the reference mempool: a slice in arrival order, every rule spelled out plainly.
type model struct {
	cfg       mempool.Config
	committed map[chain.Address]uint64
	time      uint64 // of the last block
	held      []propTx
	done      map[chain.Hash]bool // every committed tx (fewer than the pool remembers)
}

func (md *model) next(a chain.Address) (uint64, error) { return md.committed[a], nil }

func (md *model) index(h chain.Hash) int {
	return slices.IndexFunc(md.held, func(p propTx) bool { return p.tx.Hash() == h })
}

func (md *model) bytes() int {
	b := 0
	for _, p := range md.held {
		b += p.tx.Size()
	}
	return b
}

// queued tells whether a held tx cannot run yet: a nonce before it is missing.
func (md *model) queued(p propTx) bool {
	return p.tx.Nonce > md.pendingNonce(p.sender, md.committed[p.sender])
}

// queuedOf returns how many held txs are queued, of sender a (or of all if a is nil), and
// their bytes.
func (md *model) queuedOf(a *chain.Address) (n, bytes int) {
	for _, p := range md.held {
		if md.queued(p) && (a == nil || *a == p.sender) {
			n, bytes = n+1, bytes+p.tx.Size()
		}
	}
	return n, bytes
}

// oldestQueued is the index of the queued tx admitted first (the first in arrival order
// among equals).
func (md *model) oldestQueued() int {
	best := -1
	for i, p := range md.held {
		if md.queued(p) && (best < 0 || p.since < md.held[best].since) {
			best = i
		}
	}
	return best
}

// add returns the code Add must answer and admits the tx if it is "".
func (md *model) add(p propTx, reserved bool) string {
	tx, n, next := p.tx, p.tx.Nonce, md.committed[p.sender]
	maxTxs, maxBytes := md.cfg.MaxTxs, md.cfg.MaxBytes
	if !reserved {
		maxTxs -= md.cfg.MaxTxs * md.cfg.ReservedPercent / 100
		maxBytes -= md.cfg.MaxBytes / 100 * md.cfg.ReservedPercent
	}
	queued := n > md.pendingNonce(p.sender, next)
	qs, _ := md.queuedOf(&p.sender)
	qn, qb := md.queuedOf(nil)
	en, eb := qn, qb // evictable
	if queued {
		en, eb = 0, 0 // a queued tx evicts nothing
	}
	switch {
	case tx.ValidUntil != 0 && tx.ValidUntil < md.time:
		return "tx_expired"
	case md.index(tx.Hash()) >= 0:
		return "duplicate_tx"
	case md.done[tx.Hash()]:
		return "already_committed"
	case n < next:
		return "nonce_too_low"
	case n > next+md.cfg.MaxFutureNonces:
		return "nonce_too_high"
	case slices.ContainsFunc(md.held, func(q propTx) bool { return q.sender == p.sender && q.tx.Nonce == n }):
		return "nonce_taken"
	case queued && qs >= md.cfg.MaxQueuedPerSender:
		return "too_many_queued"
	case queued && (qn >= md.cfg.MaxQueuedTxs || qb+tx.Size() > md.cfg.MaxQueuedBytes):
		return "mempool_full"
	case len(md.held)-en >= maxTxs || md.bytes()-eb+tx.Size() > maxBytes:
		return "mempool_full"
	}
	for len(md.held) >= maxTxs || md.bytes()+tx.Size() > maxBytes {
		md.held = slices.Delete(md.held, md.oldestQueued(), md.oldestQueued()+1)
	}
	p.since = md.time
	md.held = append(md.held, p)
	return ""
}

// drop removes the held txs for which fn is true and returns how many.
func (md *model) drop(fn func(propTx) bool) int {
	n := len(md.held)
	md.held = slices.DeleteFunc(md.held, fn)
	return n - len(md.held)
}

// ready is the literal rule: walk arrival order emitting each sender's next nonce, again and
// again until nothing moves; stop at maxTxs; a tx over the byte budget ends its sender's run.
func (md *model) ready(maxTxs, maxBytes int) []*chain.Tx {
	var out []*chain.Tx
	if maxTxs <= 0 || maxBytes <= 0 {
		return nil
	}
	expect := map[chain.Address]uint64{}
	for _, p := range md.held {
		expect[p.sender] = md.committed[p.sender]
	}
	cut := map[chain.Address]bool{}
	bytes := 0
	for moved := true; moved; {
		moved = false
		for _, p := range md.held {
			if cut[p.sender] || p.tx.Nonce != expect[p.sender] {
				continue
			}
			if len(out) == maxTxs {
				return out
			}
			if cost := p.tx.Size() + 4; bytes+cost > maxBytes {
				cut[p.sender] = true
				continue
			}
			out = append(out, p.tx)
			bytes += p.tx.Size() + 4
			expect[p.sender]++
			moved = true
		}
	}
	return out
}

func (md *model) pendingNonce(a chain.Address, committed uint64) uint64 {
	for slices.ContainsFunc(md.held, func(p propTx) bool { return p.sender == a && p.tx.Nonce == committed }) {
		committed++
	}
	return committed
}

// TestPropertyMempool runs random sequences of Add, Update (blocks advancing senders'
// nonces and the time), Remove and Ready against the reference model and checks after every
// step that Size is the sum over the held transactions, Get and PendingNonce agree, and that
// Ready equals the reference (so it never returns a tx that is not its sender's expected
// next, never exceeds its limits and never returns a tx twice — checked directly as well).
func TestPropertyMempool(t *testing.T) {
	noFailFiles(t)
	universe, senders := propUniverse(t)
	size := universe[0].tx.Size()
	rapid.Check(t, func(rt *rapid.T) {
		md := &model{
			cfg: mempool.Config{
				MaxTxs:          rapid.IntRange(2, 24).Draw(rt, "maxTxs"),
				MaxBytes:        rapid.IntRange(2*size, 24*size).Draw(rt, "maxBytes"),
				MaxFutureNonces: rapid.Uint64Range(1, 6).Draw(rt, "maxFutureNonces"),

				MaxQueuedPerSender: rapid.IntRange(1, 4).Draw(rt, "maxQueuedPerSender"),
				MaxQueuedTxs:       rapid.IntRange(1, 8).Draw(rt, "maxQueuedTxs"),
				MaxQueuedBytes:     rapid.IntRange(size, 8*size).Draw(rt, "maxQueuedBytes"),
				QueuedTTL:          rapid.Uint64Range(1, 80).Draw(rt, "queuedTTL"),
				ReservedPercent:    rapid.IntRange(0, 50).Draw(rt, "reservedPercent"),
			},
			committed: map[chain.Address]uint64{}, done: map[chain.Hash]bool{},
		}
		m := newPool(md.cfg)
		anyTx := rapid.SampledFrom(universe)
		addOne := func(rt *rapid.T) {
			// Mostly near the sender's committed nonce, where it can be admitted.
			p := anyTx.Draw(rt, "any tx")
			if rapid.IntRange(0, 3).Draw(rt, "near") > 0 {
				s := rapid.IntRange(0, propSenders-1).Draw(rt, "sender")
				n := md.committed[senders[s]] + rapid.Uint64Range(0, md.cfg.MaxFutureNonces).Draw(rt, "ahead")
				if n < propNonces {
					p = universe[propIndex(s, n, rapid.IntRange(0, propVariants-1).Draw(rt, "variant"))]
				}
			}
			reserved := rapid.Bool().Draw(rt, "reserved")
			sender, err := m.AddWith(p.tx, md.next, mempool.AddOptions{HeadTime: md.time, Reserved: reserved})
			if want := md.add(p, reserved); chain.Code(err) != want {
				rt.Fatalf("Add(%s nonce %d) = %v, want code %q", p.sender, p.tx.Nonce, err, want)
			}
			if err == nil && sender != p.sender {
				rt.Fatalf("Add returned sender %s, want %s", sender, p.sender)
			}
		}
		rt.Repeat(map[string]func(*rapid.T){
			"add": func(rt *rapid.T) {
				for range rapid.IntRange(1, 4).Draw(rt, "adds") {
					addOne(rt)
				}
			},
			"update": func(rt *rapid.T) {
				var block []*chain.Tx
				var blockSenders []chain.Address
				who := rapid.SliceOfNDistinct(rapid.SampledFrom(senders), 0, 2, func(a chain.Address) chain.Address { return a }).Draw(rt, "senders")
				for _, a := range who {
					k := rapid.Uint64Range(1, 3).Draw(rt, "advance")
					for n := md.committed[a]; n < md.committed[a]+k && n < propNonces; n++ {
						// The pool's own tx of that nonce, or one it never saw.
						if i := slices.IndexFunc(md.held, func(p propTx) bool { return p.sender == a && p.tx.Nonce == n }); i >= 0 && rapid.Bool().Draw(rt, "held") {
							block = append(block, md.held[i].tx)
						} else {
							v := rapid.IntRange(0, propVariants-1).Draw(rt, "variant")
							block = append(block, universe[propIndex(slices.Index(senders, a), n, v)].tx)
						}
						blockSenders = append(blockSenders, a)
					}
					md.committed[a] += k
				}
				md.time += rapid.Uint64Range(0, 40).Draw(rt, "elapsed")
				if !rapid.Bool().Draw(rt, "senders known") {
					blockSenders = nil
				}
				if err := m.UpdateWithSenders(block, blockSenders, md.next, md.time); err != nil {
					rt.Fatalf("Update: %v", err)
				}
				for _, tx := range block {
					md.done[tx.Hash()] = true
				}
				md.drop(func(p propTx) bool {
					return slices.Contains(block, p.tx) || p.tx.Nonce < md.committed[p.sender] ||
						(p.tx.ValidUntil != 0 && p.tx.ValidUntil < md.time)
				})
				if len(block) > 0 || len(md.held) > 0 { // (an empty pool skips the rest)
					expired := slices.DeleteFunc(slices.Clone(md.held), func(p propTx) bool {
						return !md.queued(p) || p.since+md.cfg.QueuedTTL >= md.time
					})
					md.drop(func(p propTx) bool { return slices.Contains(expired, p) })
				}
			},
			"remove": func(rt *rapid.T) {
				failed := rapid.SliceOfN(anyTx, 0, 3).Draw(rt, "failed")
				want := 0
				for _, f := range failed {
					if md.index(f.tx.Hash()) >= 0 {
						want += md.drop(func(p propTx) bool { return p.sender == f.sender && p.tx.Nonce >= f.tx.Nonce })
					}
				}
				hs := make([]chain.Hash, len(failed))
				for i, f := range failed {
					hs[i] = f.tx.Hash()
				}
				if got := m.Remove(hs); got != want {
					rt.Fatalf("Remove = %d, want %d", got, want)
				}
			},
			"ready": func(rt *rapid.T) {
				maxTxs := rapid.IntRange(0, 12).Draw(rt, "ready maxTxs")
				maxBytes := rapid.IntRange(0, 14*(size+4)).Draw(rt, "ready maxBytes")
				txs, from, err := m.Ready(maxTxs, maxBytes, md.next)
				if err != nil {
					rt.Fatalf("Ready: %v", err)
				}
				if err := checkReady(txs, from, md.next); err != nil {
					rt.Fatal(err)
				}
				bytes := 0
				for _, tx := range txs {
					bytes += tx.Size() + 4
				}
				if len(txs) > maxTxs || bytes > maxBytes {
					rt.Fatalf("Ready: %d txs of %d bytes exceed %d, %d", len(txs), bytes, maxTxs, maxBytes)
				}
				if want := md.ready(maxTxs, maxBytes); !slices.Equal(hashes(txs...), hashes(want...)) {
					rt.Fatalf("Ready = %v\nwant %v", nonceList(txs), nonceList(want))
				}
				for i, tx := range txs {
					if _, s, ok := m.Get(tx.Hash()); !ok || s != from[i] {
						rt.Fatalf("Ready: tx %d not held with sender %s", i, from[i])
					}
				}
			},
			"": func(rt *rapid.T) {
				if n, b := m.Size(); n != len(md.held) || b != md.bytes() {
					rt.Fatalf("Size() = %d, %d; want %d, %d", n, b, len(md.held), md.bytes())
				}
				if n, b := m.Queued(); true {
					if wn, wb := md.queuedOf(nil); n != wn || b != wb {
						rt.Fatalf("Queued() = %d, %d; want %d, %d", n, b, wn, wb)
					}
				}
				for _, p := range universe {
					_, s, ok := m.Get(p.tx.Hash())
					if want := md.index(p.tx.Hash()) >= 0; ok != want || (ok && s != p.sender) {
						rt.Fatalf("Get(%s nonce %d) = %s, %v; held: %v", p.sender, p.tx.Nonce, s, ok, want)
					}
				}
				for _, a := range senders {
					c := md.committed[a]
					if got, want := m.PendingNonce(a, c), md.pendingNonce(a, c); got != want {
						rt.Fatalf("PendingNonce(%s, %d) = %d, want %d", a, c, got, want)
					}
				}
			},
		})
	})
}

func nonceList(txs []*chain.Tx) []string {
	out := make([]string, len(txs))
	for i, tx := range txs {
		out[i] = fmt.Sprintf("%x/%d", tx.Hash().Bytes()[:2], tx.Nonce)
	}
	return out
}

// noFailFiles stops rapid from writing testdata/rapid fail files: a failure prints its
// -rapid.seed, which reproduces it. The flag is restored when the test ends.
func noFailFiles(t *testing.T) {
	f := flag.Lookup("rapid.nofailfile")
	if f == nil {
		return
	}
	old := f.Value.String()
	if err := flag.Set("rapid.nofailfile", "true"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = flag.Set("rapid.nofailfile", old) })
}

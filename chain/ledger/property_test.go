package ledger_test

import (
	"crypto/ecdsa"
	"errors"
	"flag"
	"fmt"
	"testing"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/store"
	"pgregory.net/rapid"
)

// TestBackendsAgreeProperty applies random blocks of random transactions — built on a pebble
// node, then applied as received by a badger node — and requires byte-identical state roots
// and heads after every block, and that both backends reject the same invalid blocks.
func TestBackendsAgreeProperty(t *testing.T) {
	// Each check opens two real stores; 25 random histories keep the test under a few seconds.
	if f := flag.Lookup("rapid.checks"); f != nil && f.Value.String() == "100" {
		_ = f.Value.Set("25")
		defer func() { _ = f.Value.Set("100") }()
	}
	net := newNetwork(t, chain.DefaultParams())
	customers := make([]*ecdsa.PrivateKey, 4)
	for i := range customers {
		customers[i] = testKey(t, fmt.Sprintf("customer %d", i))
	}
	rapid.Check(t, func(rt *rapid.T) {
		net.nonces = map[chain.Address]uint64{}
		a := openNode(t, net, "pebble", t.TempDir())
		defer a.close(t)
		b := openNode(t, net, "badger", t.TempDir())
		defer b.close(t)

		now := uint64(genesisTime)
		order := 0
		blocks := rapid.IntRange(1, 8).Draw(rt, "blocks")
		for h := 1; h <= blocks; h++ {
			now += rapid.Uint64Range(1, 3*chain.SecondsPerDay).Draw(rt, "dt")
			var txs []*chain.Tx
			for range rapid.IntRange(0, 12).Draw(rt, "txs") {
				from := customers[rapid.IntRange(0, len(customers)-1).Draw(rt, "from")]
				to := customers[rapid.IntRange(0, len(customers)-1).Draw(rt, "to")]
				amount := rapid.Uint64Range(1, 300).Draw(rt, "amount")
				var key *ecdsa.PrivateKey
				var p chain.Payload
				switch rapid.IntRange(0, 3).Draw(rt, "kind") {
				case 0:
					order++
					key, p = net.partner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(to), Amount: amount, OrderRef: refN(order)}}}
				case 1:
					key, p = from, &chain.Transfer{Program: "ACME", To: addr(to), Amount: amount}
				case 2:
					key, p = from, &chain.Redeem{Program: "ACME", Amount: amount, RewardRef: "r"}
				default:
					if order == 0 {
						continue
					}
					key, p = net.partner, &chain.Reverse{Program: "ACME", OrderRef: refN(rapid.IntRange(1, order).Draw(rt, "ref")), Amount: amount}
				}
				txs = append(txs, net.tx(t, key, p))
			}
			senders, err := a.l.RecoverSenders(txs)
			if err != nil {
				rt.Fatal(err)
			}
			blk, rejected, err := a.l.BuildBlock(now, addr(net.validator), txs, senders, a.lastCommit)
			if err != nil {
				rt.Fatal(err)
			}
			_ = rejected // insufficient points, over-reversals: left out of the block
			c := net.certify(t, blk)
			if err := a.l.ApplyBlock(blk, c); err != nil {
				rt.Fatalf("pebble rejected its own block: %v", err)
			}
			// The badger node receives the block as bytes, as from a peer.
			received, err := chain.DecodeBlock(blk.Encode())
			if err != nil {
				rt.Fatal(err)
			}
			if err := b.l.ApplyBlock(received, c); err != nil {
				rt.Fatalf("badger rejected pebble's block %d: %v", h, err)
			}
			a.lastCommit, b.lastCommit = c, c
			if a.l.Head() != b.l.Head() {
				rt.Fatalf("height %d: pebble head %+v, badger head %+v", h, a.l.Head(), b.l.Head())
			}
			// Rejected transactions consumed no nonce: take the next nonces from the state.
			for _, k := range append([]*ecdsa.PrivateKey{net.partner}, customers...) {
				net.nonces[addr(k)] = committedNonce(rt, a, addr(k))
			}
		}
	})
}

func committedNonce(rt *rapid.T, nd *node, a chain.Address) uint64 {
	v, err := nd.l.GetState(chain.AccountKey(a))
	if errors.Is(err, store.ErrNotFound) {
		return 0
	}
	if err != nil {
		rt.Fatalf("nonce of %s: %v", a, err)
	}
	acc, err := chain.DecodeAccount(v)
	if err != nil {
		rt.Fatalf("account of %s: %v", a, err)
	}
	return acc.Nonce
}

package ledger_test

import (
	"errors"
	"testing"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
)

// A transaction that does not apply is left out of a built block and reported as a
// *ledger.RejectedTx carrying the ledger's code, so a proposer can drop exactly it.
func TestBuildBlockReportsRejectedTxs(t *testing.T) {
	net := newNetwork(t, chain.DefaultParams())
	nd := openNode(t, net, "pebble", t.TempDir())
	defer nd.close(t)
	customer := testKey(t, "customer")
	good := net.tx(t, net.partner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(customer), Amount: 5, OrderRef: "o1"}}})
	bad := net.tx(t, customer, &chain.Transfer{Program: "ACME", To: addr(net.partner), Amount: 6})
	senders, err := nd.l.RecoverSenders([]*chain.Tx{good, bad})
	if err != nil {
		t.Fatal(err)
	}
	blk, rejected, err := nd.l.BuildBlock(genesisTime+10, addr(net.validator), []*chain.Tx{good, bad}, senders, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(blk.Txs) != 1 || blk.Txs[0].Hash() != good.Hash() {
		t.Fatalf("block holds %d txs, want only the earn", len(blk.Txs))
	}
	var r *ledger.RejectedTx
	if len(rejected) != 1 || !errors.As(rejected[0], &r) || r.Tx.Hash() != bad.Hash() || !errors.Is(r, chain.ErrInsufficientPoints) {
		t.Fatalf("rejected = %v, want the transfer with insufficient_points", rejected)
	}
}

// Routes lists the routes in key order, naming both programs.
func TestRoutesListsRoutes(t *testing.T) {
	net := newNetwork(t, chain.DefaultParams())
	nd := openNode(t, net, "badger", t.TempDir())
	defer nd.close(t)
	nd.produce(t, genesisTime+10,
		net.tx(t, net.partner, &chain.RegisterProgram{Symbol: "BETA", Name: "Beta", Policy: chain.Policy{}}),
	)
	nd.produce(t, genesisTime+20,
		net.tx(t, net.partner, &chain.SetRate{From: "ACME", To: "BETA", Numerator: 2, Denominator: 1}),
		net.tx(t, net.partner, &chain.SetRate{From: "BETA", To: "ACME", Numerator: 1, Denominator: 2}),
	)
	var got []string
	err := nd.l.Routes(func(from, to string, r *chain.Route) error {
		if r == nil || r.FromSide.Numerator == 0 {
			t.Fatalf("route %s>%s decoded as %+v, want its owner's side set", from, to, r)
		}
		got = append(got, from+">"+to)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != "ACME>BETA" || got[1] != "BETA>ACME" {
		t.Fatalf("routes = %v", got)
	}
}

package ledger_test

import (
	"crypto/ecdsa"
	"fmt"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
	"github.com/loyal-ledger/loyal/chain/store"
	"github.com/loyal-ledger/loyal/chain/store/backends"
)

// testKey derives a fixed key from a name, so runs are reproducible.
func testKey(tb testing.TB, name string) *ecdsa.PrivateKey {
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte("loyal ledger test " + name)))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func addr(k *ecdsa.PrivateKey) chain.Address { return crypto.PubkeyToAddress(k.PublicKey) }

const genesisTime = 1_750_000_000

// network is a one-validator chain: its genesis, validator key and the partner owning ACME.
type network struct {
	genesis   *chain.Genesis
	validator *ecdsa.PrivateKey
	partner   *ecdsa.PrivateKey
	signer    *chain.Signer
	nonces    map[chain.Address]uint64
}

func newNetwork(tb testing.TB, params chain.Params) *network {
	val, partner := testKey(tb, "validator"), testKey(tb, "partner")
	g := &chain.Genesis{
		ChainID: 7331, Network: "ledger-test", GenesisTime: genesisTime,
		Partners: []chain.Partner{{Name: "Acme", Address: addr(partner)}},
		Validators: []chain.Validator{{
			Name: "acme-node", Partner: addr(partner), PubKey: crypto.CompressPubkey(&val.PublicKey), Address: addr(val),
		}},
		Params: params,
		Programs: []chain.GenesisProgram{{
			Symbol: "ACME", Name: "Acme Rewards", Owner: addr(partner),
			Policy: chain.Policy{ExpiryDays: 365},
		}},
	}
	if err := g.Validate(); err != nil {
		tb.Fatal(err)
	}
	return &network{genesis: g, validator: val, partner: partner, signer: chain.NewSigner(g.ChainID, g.Hash()), nonces: map[chain.Address]uint64{}}
}

// tx signs a transaction from key with its next nonce.
func (n *network) tx(tb testing.TB, key *ecdsa.PrivateKey, p chain.Payload) *chain.Tx {
	a := addr(key)
	tx := chain.NewTx(n.genesis.ChainID, n.nonces[a], 0, p)
	n.nonces[a]++
	if err := n.signer.Sign(tx, key); err != nil {
		tb.Fatal(err)
	}
	return tx
}

// certify signs the commit certificate of blk with the validator key.
func (n *network) certify(tb testing.TB, blk *chain.Block) *chain.Commit {
	h := blk.Hash()
	sig, err := chain.SignVote(n.validator, chain.VoteDigest(n.genesis.ChainID, chain.Precommit, blk.Header.Height, 0, h))
	if err != nil {
		tb.Fatal(err)
	}
	return &chain.Commit{Height: blk.Header.Height, BlockHash: h, Sigs: []chain.CommitSig{{Validator: addr(n.validator), Sig: sig}}}
}

// node is a ledger over a real store, with the certificate of its tip.
type node struct {
	net        *network
	db         store.DB
	l          *ledger.Ledger
	lastCommit *chain.Commit
}

func openNode(tb testing.TB, net *network, backend, dir string) *node {
	db, err := backends.Open(backend, dir, ledger.StoreOptions(net.genesis.Params))
	if err != nil {
		tb.Fatal(err)
	}
	l, err := ledger.Open(db, net.genesis)
	if err != nil {
		db.Close()
		tb.Fatal(err)
	}
	nd := &node{net: net, db: db, l: l}
	if h := l.Head().Height; h > 0 {
		if nd.lastCommit, err = l.SeenCommit(h); err != nil {
			tb.Fatal(err)
		}
	}
	return nd
}

func (nd *node) close(tb testing.TB) {
	if err := nd.db.Close(); err != nil {
		tb.Fatal(err)
	}
}

// produce builds, certifies and applies the next block; every tx must apply.
func (nd *node) produce(tb testing.TB, time uint64, txs ...*chain.Tx) *chain.Block {
	tb.Helper()
	senders, err := nd.l.RecoverSenders(txs)
	if err != nil {
		tb.Fatal(err)
	}
	blk, rejected, err := nd.l.BuildBlock(time, addr(nd.net.validator), txs, senders, nd.lastCommit)
	if err != nil {
		tb.Fatal(err)
	}
	if len(rejected) > 0 || len(blk.Txs) != len(txs) {
		tb.Fatalf("%d of %d transactions in the block; rejected: %v", len(blk.Txs), len(txs), rejected)
	}
	c := nd.net.certify(tb, blk)
	if err := nd.l.ApplyBlockWithSenders(blk, senders, c); err != nil {
		tb.Fatal(err)
	}
	nd.lastCommit = c
	return blk
}

func (nd *node) balance(tb testing.TB, a chain.Address, sym string) uint64 {
	v, err := nd.l.GetState(chain.AccountKey(a))
	if err != nil {
		return 0
	}
	acc, err := chain.DecodeAccount(v)
	if err != nil {
		tb.Fatal(err)
	}
	b := acc.Balance(sym)
	if b == nil {
		return 0
	}
	return b.Total(chain.DayOf(nd.l.Head().Time))
}

func refN(i int) string { return fmt.Sprintf("order-%06d", i) }

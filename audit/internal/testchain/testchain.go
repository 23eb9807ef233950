// Package testchain builds real chains for the auditor's tests: a four-validator genesis,
// blocks built and committed by the ledger on a real pebble store, each certified by three of
// the four validators, holding every kind of movement an auditor must account for — earns,
// transfers, redemptions, reversals, exchanges between two programs, settlements and points
// expiring as block time passes. Only tests import it.
package testchain

import (
	"bytes"
	"crypto/ecdsa"
	"fmt"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/loyal-ledger/loyal/audit/export"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
	"github.com/loyal-ledger/loyal/chain/store/backends"
)

// GenesisTime is the generated chain's genesis time.
const GenesisTime = 1_750_000_000

// Chain is a generated chain: its genesis, blocks from height 1, the certificate of the last
// block (gathered, not carried by a later block) and the ledger that committed it, open until
// the test ends.
type Chain struct {
	Genesis *chain.Genesis
	Blocks  []*chain.Block // Blocks[i] is at height i+1
	Final   *chain.Commit
	Ledger  *ledger.Ledger
	Keys    map[string]*ecdsa.PrivateKey // by name: "acme", "beta" (program owners), customers "c0"…
}

// Key derives a fixed key from a name.
func Key(tb testing.TB, name string) *ecdsa.PrivateKey {
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte("loyal audit test " + name)))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// Addr is a key's address.
func Addr(k *ecdsa.PrivateKey) chain.Address { return crypto.PubkeyToAddress(k.PublicKey) }

// Options shape a generated chain.
type Options struct {
	Blocks    int // blocks after the setup ones
	Customers int // customers moving points (default 8)
	// DayStep is how many days block time jumps after every fifth pair of blocks (default 4:
	// past ACME's three-day expiry); a larger step spreads a chain over months.
	DayStep int
	// BlockSeconds is the block time from one block to the next (default 60); a quarter of a
	// day spreads the blocks between two jumps over several days, so points mature and
	// expire on days that have blocks.
	BlockSeconds int
	// Refunds adds the reversals the default chain lacks: in every stretch's second block, of
	// part of a BETA order still pending (recovered from the order's own locked points); and
	// after every jump of block time, a block reversing part of an ACME order earned before
	// the jump, whose points have expired (nothing recovered: all of it unrecovered).
	Refunds bool
	// Governance adds partner governance (ADR 0009) after the setup: Acme proposes admitting
	// Gamma and Beta approves; Gamma registers GAMMA and earns in it; then Gamma's removal is
	// proposed by Acme and approved by Beta, which retires GAMMA.
	Governance bool
	// ValidatorChanges changes the validator set after the setup (ADR 0003), each by Acme's
	// proposal and Beta's approval: "validator 4" joins (five validators), validator 1's key
	// is rotated to "validator 5", and validator 0 leaves (four again). Each change is in
	// force two blocks after it executes; blocks are certified by the set of their height.
	ValidatorChanges bool
}

// builder signs and commits the generated chain.
type builder struct {
	out  *export.Writer // if set, each block is written here and not kept
	keys map[string]*ecdsa.PrivateKey

	tb         testing.TB
	g          *chain.Genesis
	signer     *chain.Signer
	l          *ledger.Ledger
	validators map[chain.Address]*ecdsa.PrivateKey // every validator key, by address
	nonces     map[chain.Address]uint64
	proposals  uint64
	time       uint64
	step       uint64 // block time between blocks
	last       *chain.Commit
	blocks     []*chain.Block
	height     uint64 // blocks written to out
	orders     int
}

// Build generates a chain. Setup blocks register the second program and open an exchange
// route; then each block carries a mix of movements, and every fifth block jumps block time
// past the programs' expiry so that points expire.
func Build(tb testing.TB, o Options) *Chain {
	tb.Helper()
	if o.Customers == 0 {
		o.Customers = 8
	}
	if o.DayStep == 0 {
		o.DayStep = 4
	}
	b := newBuilder(tb)
	if o.BlockSeconds != 0 {
		b.step = uint64(o.BlockSeconds)
	}
	keys := b.keys
	var customers []*ecdsa.PrivateKey
	for i := range o.Customers {
		k := Key(tb, fmt.Sprintf("c%d", i))
		keys[fmt.Sprintf("c%d", i)] = k
		customers = append(customers, k)
	}
	b.setup()
	acme, beta := keys["acme"], keys["beta"]
	if o.Governance {
		gamma := Key(tb, "gamma")
		keys["gamma"] = gamma
		b.commit(b.tx(acme, &chain.Propose{Action: chain.ActionAdmitPartner, Partner: Addr(gamma), Name: "Gamma"}))
		b.commit(b.tx(beta, &chain.Approve{Proposal: 1}))
		b.commit(b.tx(gamma, &chain.RegisterProgram{Symbol: "GAMMA", Name: "Gamma Stars"}))
		b.commit(b.tx(gamma, &chain.Earn{Program: "GAMMA", Credits: []chain.Credit{{To: Addr(acme), Amount: 40, OrderRef: b.order()}}}))
		b.commit(b.tx(acme, &chain.Propose{Action: chain.ActionRemovePartner, Partner: Addr(gamma)}))
		b.commit(b.tx(beta, &chain.Approve{Proposal: 2}))
		b.proposals = 2
	}
	if o.ValidatorChanges {
		v4, v5 := Key(tb, "validator 4"), Key(tb, "validator 5")
		b.validators[Addr(v4)], b.validators[Addr(v5)] = v4, v5
		b.validatorChange(&chain.ProposeValidator{Action: chain.ActionAddValidator}, v4, "node-4")
		b.validatorChange(&chain.ProposeValidator{Action: chain.ActionRotateValidatorKey, Validator: Addr(Key(tb, "validator 1"))}, v5, "node-1b")
		b.validatorChange(&chain.ProposeValidator{Action: chain.ActionRemoveValidator, Validator: Addr(Key(tb, "validator 0"))}, nil, "")
	}
	for i := range o.Blocks {
		var txs []*chain.Tx
		var credits []chain.Credit
		for j, c := range customers {
			credits = append(credits, chain.Credit{To: Addr(c), Amount: uint64(100 + 10*j + i), OrderRef: b.order()})
		}
		txs = append(txs, b.tx(acme, &chain.Earn{Program: "ACME", Credits: credits}))
		txs = append(txs, b.tx(beta, &chain.Earn{Program: "BETA", Credits: credits[:2]}))
		b.commit(txs...) // earned: available now for ACME (no pending days)
		txs = txs[:0]
		c0, c1, c2 := customers[i%len(customers)], customers[(i+1)%len(customers)], customers[(i+2)%len(customers)]
		txs = append(txs,
			b.tx(c0, &chain.Transfer{Program: "ACME", To: Addr(c1), Amount: 7, Memo: "gift"}),
			b.tx(c1, &chain.Redeem{Program: "ACME", Amount: 5, RewardRef: fmt.Sprintf("reward-%d", i)}),
			b.tx(c2, &chain.Exchange{From: "ACME", To: "BETA", Amount: 20, MinOut: 1}),
			b.tx(acme, &chain.Reverse{Program: "ACME", OrderRef: credits[len(credits)-1].OrderRef, Amount: 3}),
		)
		if i%3 == 2 {
			txs = append(txs, b.tx(beta, &chain.Settle{Program: "BETA", Counterparty: "ACME", Amount: 1}))
		}
		if o.Refunds {
			txs = append(txs, b.tx(beta, &chain.Reverse{Program: "BETA", OrderRef: credits[0].OrderRef, Amount: 5}))
		}
		b.commit(txs...)
		if i%5 == 4 {
			b.time += uint64(o.DayStep) * 86400 // past ACME's expiry: what was not spent expires
			if o.Refunds {
				b.commit(b.tx(acme, &chain.Reverse{Program: "ACME", OrderRef: credits[0].OrderRef, Amount: 10}))
			}
		}
	}
	return &Chain{Genesis: b.g, Blocks: b.blocks, Final: b.last, Ledger: b.l, Keys: keys}
}

// newBuilder makes the genesis (two partners, four validators, ACME) and its ledger.
func newBuilder(tb testing.TB) *builder {
	keys := map[string]*ecdsa.PrivateKey{"acme": Key(tb, "acme"), "beta": Key(tb, "beta")}
	var vals []chain.Validator
	valKeys := map[chain.Address]*ecdsa.PrivateKey{}
	for i := range 4 {
		k := Key(tb, fmt.Sprintf("validator %d", i))
		valKeys[Addr(k)] = k
		partner := keys["acme"]
		if i%2 == 1 {
			partner = keys["beta"]
		}
		vals = append(vals, chain.Validator{Name: fmt.Sprintf("node-%d", i), Partner: Addr(partner), PubKey: crypto.CompressPubkey(&k.PublicKey), Address: Addr(k)})
	}
	g := &chain.Genesis{
		ChainID: 4242, Network: "audit-test", GenesisTime: GenesisTime,
		Partners:   []chain.Partner{{Name: "Acme", Address: Addr(keys["acme"])}, {Name: "Beta", Address: Addr(keys["beta"])}},
		Validators: vals,
		Params:     chain.DefaultParams(),
		Programs: []chain.GenesisProgram{{
			Symbol: "ACME", Name: "Acme Rewards", Owner: Addr(keys["acme"]), Policy: chain.Policy{ExpiryDays: 3},
		}},
		ProtocolVersion: chain.LatestVersion, Governance: chain.DefaultGovernance(),
	}
	if err := g.Validate(); err != nil {
		tb.Fatal(err)
	}
	db, err := backends.Open("pebble", tb.TempDir(), ledger.StoreOptions(g.Params))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	l, err := ledger.Open(db, g)
	if err != nil {
		tb.Fatal(err)
	}
	return &builder{tb: tb, g: g, signer: chain.NewSigner(g.ChainID, g.Hash()), l: l, validators: valKeys,
		nonces: map[chain.Address]uint64{}, time: GenesisTime, step: 60, keys: keys}
}

// setup registers BETA and opens the ACME→BETA route (two blocks).
func (b *builder) setup() {
	acme, beta := b.keys["acme"], b.keys["beta"]
	b.commit(b.tx(beta, &chain.RegisterProgram{Symbol: "BETA", Name: "Beta Miles", Policy: chain.Policy{PendingDays: 1, ExpiryDays: 10}}))
	b.commit(
		b.tx(acme, &chain.SetRate{From: "ACME", To: "BETA", Numerator: 1, Denominator: 2}),
		b.tx(beta, &chain.SetRate{From: "ACME", To: "BETA", Numerator: 1, Denominator: 2}),
	)
}

// validatorChange has Acme propose p (with key's entry named name and its proof, unless p
// removes) and Beta approve it, then commits two more blocks so the change is in force.
func (b *builder) validatorChange(p *chain.ProposeValidator, key *ecdsa.PrivateKey, name string) {
	b.tb.Helper()
	if key != nil {
		p.Entry = &chain.ValidatorKey{Name: name, Partner: Addr(b.keys["beta"]), PubKey: crypto.CompressPubkey(&key.PublicKey), Multiaddrs: []string{}}
		proof, err := chain.SignPossession(chain.Domain{ChainID: b.g.ChainID, Salt: b.g.Hash()}, p.Entry, key)
		if err != nil {
			b.tb.Fatal(err)
		}
		p.Proof = proof[:]
	}
	b.commit(b.tx(b.keys["acme"], p))
	b.proposals++
	b.commit(b.tx(b.keys["beta"], &chain.Approve{Proposal: b.proposals}))
	b.commit()
	b.commit()
}

func (b *builder) order() string {
	b.orders++
	return fmt.Sprintf("order-%06d", b.orders)
}

func (b *builder) tx(key *ecdsa.PrivateKey, p chain.Payload) *chain.Tx {
	a := Addr(key)
	tx := chain.NewTx(b.g.ChainID, b.nonces[a], 0, p)
	b.nonces[a]++
	if err := b.signer.Sign(tx, key); err != nil {
		b.tb.Fatal(err)
	}
	return tx
}

// commit builds, certifies and commits the next block; every transaction must apply.
func (b *builder) commit(txs ...*chain.Tx) {
	b.tb.Helper()
	senders, err := b.l.RecoverSenders(txs)
	if err != nil {
		b.tb.Fatal(err)
	}
	b.commitWith(txs, senders)
}

// commitWith is commit with the senders known.
func (b *builder) commitWith(txs []*chain.Tx, senders []chain.Address) {
	b.tb.Helper()
	b.time += b.step
	height := uint64(len(b.blocks)) + b.height + 1
	set := b.l.RulesAt(height).Validators
	proposer := set[height%uint64(len(set))].Address
	blk, rejected, err := b.l.BuildBlock(b.time, proposer, txs, senders, b.last)
	if err != nil {
		b.tb.Fatal(err)
	}
	if len(rejected) > 0 || len(blk.Txs) != len(txs) {
		b.tb.Fatalf("block %d: %d of %d transactions; rejected: %v", height, len(blk.Txs), len(txs), rejected)
	}
	c := b.certify(blk)
	if err := b.l.ApplyBlockWithSenders(blk, senders, c); err != nil {
		b.tb.Fatal(err)
	}
	if b.out != nil {
		if err := b.out.Block(blk); err != nil {
			b.tb.Fatal(err)
		}
		b.height++
	} else {
		b.blocks = append(b.blocks, blk)
	}
	b.last = c
}

// certify gathers precommits of blk from the validators of its height, all but one when the
// rest are more than two thirds (a different one at each height), in the validators' order,
// as a certificate must list them.
func (b *builder) certify(blk *chain.Block) *chain.Commit {
	h := blk.Hash()
	set := b.l.RulesAt(blk.Header.Height).Validators
	skip := -1
	if len(set)-1 >= chain.Quorum(len(set)) {
		skip = int(blk.Header.Height % uint64(len(set)))
	}
	c := &chain.Commit{Height: blk.Header.Height, BlockHash: h}
	for i, v := range set {
		if i == skip {
			continue
		}
		k := b.validators[v.Address]
		if k == nil {
			b.tb.Fatalf("block %d: no key for validator %s", blk.Header.Height, v.Address)
		}
		sig, err := chain.SignVote(k, chain.VoteDigest(b.g.ChainID, chain.Precommit, blk.Header.Height, 0, h))
		if err != nil {
			b.tb.Fatal(err)
		}
		c.Sigs = append(c.Sigs, chain.CommitSig{Validator: Addr(k), Sig: sig})
	}
	return c
}

// Export is c whole as an export file, with the final certificate c gathered.
func (c *Chain) Export(tb testing.TB) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w, err := export.NewWriter(&buf, c.Genesis)
	if err != nil {
		tb.Fatal(err)
	}
	for _, blk := range c.Blocks {
		if err := w.Block(blk); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Finish(c.Final); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

package testnet

import (
	"crypto/ecdsa"
	"log/slog"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
	"github.com/loyal-ledger/loyal/node"
	"github.com/loyal-ledger/loyal/node/consensus"
)

// Byzantine says how a cluster's validator misbehaves on purpose (ClusterOptions.Byzantine),
// so that tests can show what the honest nodes do about it. The node itself is an ordinary
// node: the misbehaviour is a node.Transport wrapped around its own, which alters the
// consensus messages it sends.
type Byzantine struct {
	// Equivocate: whenever this validator proposes a fresh block, it also builds and signs a
	// second, different block for the same height and round; half of its peers get the one
	// first and half the other, then each gets both. It then votes for both blocks. Honest
	// nodes must not fork, and must record the double proposal and the double votes as
	// evidence.
	Equivocate bool
}

// byzantine is the transport of a byzantine validator: it sends what the node sends, or
// misbehaves instead as b says. The node calls it from its consensus loop only, one call at a
// time (see node.Transport), so its state needs no lock.
type byzantine struct {
	node.Transport
	b    Byzantine
	key  *ecdsa.PrivateKey // the validator's consensus key
	self chain.Address
	log  *slog.Logger
	// ledger is the node's, where the second block is built; set once the node is open,
	// before it runs.
	ledger *ledger.Ledger

	last equivocation // the last double proposal
}

// equivocation is the pair of blocks an equivocating proposer signed for a height and round.
type equivocation struct {
	height uint64
	round  uint32
	a, b   chain.Hash
}

func newByzantine(t node.Transport, b Byzantine, key *ecdsa.PrivateKey, log *slog.Logger) *byzantine {
	log.Warn("this node is byzantine on purpose (tests only)", "byzantine", b)
	return &byzantine{Transport: t, b: b, key: key, self: crypto.PubkeyToAddress(key.PublicKey), log: log}
}

// Broadcast sends m, or misbehaves instead.
func (t *byzantine) Broadcast(m node.Message) {
	if t.b.Equivocate {
		switch {
		case m.Proposal != nil && m.Proposal.POLRound == -1:
			if t.equivocateProposal(m) {
				return
			}
		case m.Vote != nil:
			if t.equivocateVote(m.Vote) {
				return
			}
		}
	}
	t.Transport.Broadcast(m)
}

// equivocateProposal builds a second block beside the proposed one (the same time without
// transactions, or one second later when the first has none), signs a proposal for it and
// sends the two proposals in opposite orders to the two halves of the peers. It reports
// whether it did; if not, the proposal goes out as it is.
func (t *byzantine) equivocateProposal(m node.Message) bool {
	p, a := m.Proposal, m.Block
	tm := a.Header.Time
	if len(a.Txs) == 0 {
		tm++
	}
	other, _, err := t.ledger.BuildBlock(tm, t.self, nil, nil, a.LastCommit)
	if err != nil {
		t.log.Warn("equivocation: building the second block", "err", err)
		return false
	}
	q := *p
	q.BlockHash, q.BlockTime = other.Hash(), other.Header.Time
	if q.Sig, err = chain.SignVote(t.key, q.Digest(t.ledger.Genesis().ChainID)); err != nil {
		return false
	}
	t.last = equivocation{height: p.Height, round: p.Round, a: p.BlockHash, b: q.BlockHash}

	msgA := node.Message{Proposal: p, Block: a}
	msgB := node.Message{Proposal: &q, Block: other}
	for i, id := range t.Peers() { // ordered by id
		first, second := msgA, msgB
		if i%2 == 1 {
			first, second = msgB, msgA
		}
		t.sendTo(id, first)
		t.sendTo(id, second)
	}
	t.log.Warn("equivocated", "height", p.Height, "round", p.Round, "a", p.BlockHash, "b", q.BlockHash)
	return true
}

// equivocateVote sends the vote and, when it is for one of the two blocks this validator
// proposed in that round, a second signed vote for the other. It reports whether it did.
func (t *byzantine) equivocateVote(v *consensus.Vote) bool {
	e := t.last
	if v.Height != e.height || v.Round != e.round || (v.BlockHash != e.a && v.BlockHash != e.b) {
		return false
	}
	w := *v
	w.BlockHash = e.a
	if v.BlockHash == e.a {
		w.BlockHash = e.b
	}
	var err error
	if w.Sig, err = chain.SignVote(t.key, w.Digest(t.ledger.Genesis().ChainID)); err != nil {
		return false
	}
	t.Transport.Broadcast(node.Message{Vote: v})
	t.Transport.Broadcast(node.Message{Vote: &w})
	return true
}

func (t *byzantine) sendTo(id peer.ID, m node.Message) {
	if err := t.Send(id, m); err != nil {
		t.log.Debug("equivocation: send", "peer", id, "err", err)
	}
}

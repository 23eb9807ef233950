package node

import (
	"context"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node/consensus"
	"github.com/loyal-ledger/loyal/p2p"
)

// Faults make a node misbehave on purpose, so that tests can show what the honest nodes do
// about it (the testnet package's byzantine mode). Only code can set them — no config key
// does — and SetFaults logs them as a warning.
type Faults struct {
	// Equivocate: whenever this validator proposes a fresh block, it also builds and signs a
	// second, different block for the same height and round; half of its peers get the one
	// first and half the other, then each gets both. It then votes for both blocks. Honest
	// nodes must not fork, and must record the double proposal and the double votes as
	// evidence.
	Equivocate bool
}

// SetFaults makes the node misbehave as f says. Call it before Run (the run loop reads the
// faults without a lock); it has no effect on a single-validator network.
func (n *Node) SetFaults(f Faults) {
	n.faults = f
	if f != (Faults{}) {
		n.log.Warn("this node is faulty on purpose (tests only)", "faults", f)
	}
}

// equivocation is the second block an equivocating proposer signed for a height and round.
type equivocation struct {
	height uint64
	round  uint32
	a, b   chain.Hash
}

// broadcastFaulty carries out a Broadcast the faulty way, if the node's faults apply to it,
// and reports whether it did.
func (r *replica) broadcastFaulty(b consensus.Broadcast) bool {
	if !r.n.faults.Equivocate {
		return false
	}
	if b.Proposal != nil {
		return b.Proposal.POLRound == -1 && r.equivocateProposal(b.Proposal)
	}
	return r.equivocateVote(b.Vote)
}

// equivocateProposal builds a second block beside the proposed one (the same time without
// transactions, or one second later when the first has none), signs a proposal for it and
// sends the two proposals in opposite orders to the two halves of the peers.
func (r *replica) equivocateProposal(p *consensus.Proposal) bool {
	n := r.n
	r.mu.Lock()
	held := r.blocks[p.BlockHash]
	r.mu.Unlock()
	if held == nil {
		return false
	}
	a := held.blk
	t := a.Header.Time
	if len(a.Txs) == 0 {
		t++
	}
	other, _, err := n.ledger.BuildBlock(t, n.validator, nil, nil, a.LastCommit)
	if err != nil {
		r.log.Warn("equivocation: building the second block", "err", err)
		return false
	}
	q := *p
	q.BlockHash, q.BlockTime = other.Hash(), other.Header.Time
	if q.Sig, err = chain.SignVote(n.key, q.Digest(n.genesis.ChainID)); err != nil {
		return false
	}
	r.mu.Lock()
	r.blocks[q.BlockHash] = &heldBlock{blk: other, valid: true}
	r.mu.Unlock()
	r.equivocal = equivocation{height: p.Height, round: p.Round, a: p.BlockHash, b: q.BlockHash}

	msgA := encodeProposal(p, nil, a.Encode())
	msgB := encodeProposal(&q, nil, other.Encode())
	for i, pi := range r.host.Peers() { // ordered by id

		first, second := msgA, msgB
		if i%2 == 1 {
			first, second = msgB, msgA
		}
		r.sendTo(pi.ID, first)
		r.sendTo(pi.ID, second)
	}
	r.log.Warn("equivocated", "height", p.Height, "round", p.Round, "a", p.BlockHash, "b", q.BlockHash)
	return true
}

// equivocateVote sends the vote and, when it is for one of the two blocks this node proposed
// in that round, a second signed vote for the other.
func (r *replica) equivocateVote(v *consensus.Vote) bool {
	e := r.equivocal
	if v.Height != e.height || v.Round != e.round || (v.BlockHash != e.a && v.BlockHash != e.b) {
		return false
	}
	w := *v
	w.BlockHash = e.a
	if v.BlockHash == e.a {
		w.BlockHash = e.b
	}
	var err error
	if w.Sig, err = chain.SignVote(r.n.key, w.Digest(r.n.genesis.ChainID)); err != nil {
		return false
	}
	ctx := context.Background()
	r.host.Broadcast(ctx, p2p.ConsensusProtocol, encodeVote(v))
	r.host.Broadcast(ctx, p2p.ConsensusProtocol, encodeVote(&w))
	return true
}

func (r *replica) sendTo(id peer.ID, msg []byte) {
	if err := r.host.Send(context.Background(), id, p2p.ConsensusProtocol, msg); err != nil {
		r.log.Debug("equivocation: send", "peer", id, "err", err)
	}
}

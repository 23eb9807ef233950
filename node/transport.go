package node

import (
	"context"
	"errors"
	"log/slog"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node/consensus"
	"github.com/loyal-ledger/loyal/p2p"
)

// Transport carries a validator's consensus messages — its proposals and votes — to its
// peers. A node sends them through its p2p host, on p2p.ConsensusProtocol; a program
// embedding the node may put a transport of its own in front of that one
// (Options.WrapTransport), to record, delay or alter what leaves the node.
//
// The node calls a Transport from its consensus loop only, one call at a time, and does not
// wait for delivery: delivery is best effort, and consensus tolerates lost messages.
type Transport interface {
	// Peers are the connected peers (validators and observers), ordered by id.
	Peers() []peer.ID
	// Broadcast sends m to every connected peer.
	Broadcast(m Message)
	// Send sends m to one connected peer.
	Send(to peer.ID, m Message) error
}

// Message is a consensus message: a proposal with its proof-of-lock votes (POL) and its
// block, or a vote. Exactly one of Proposal and Vote is set. A transport must not modify a
// message it is given.
type Message struct {
	Proposal *consensus.Proposal
	POL      []consensus.Vote
	Block    *chain.Block // the proposed block
	Vote     *consensus.Vote
}

var errBadMessage = errors.New("node: a consensus message is a proposal with its block, or a vote")

// encode is m as it goes on the wire (see wire.go).
func (m Message) encode() ([]byte, error) {
	switch {
	case m.Vote != nil && m.Proposal == nil:
		return encodeVote(m.Vote), nil
	case m.Proposal != nil && m.Vote == nil && m.Block != nil:
		return encodeProposal(m.Proposal, m.POL, m.Block.Encode()), nil
	}
	return nil, errBadMessage
}

// hostTransport is the transport of a node that runs consensus: its p2p host.
type hostTransport struct {
	host *p2p.Host
	log  *slog.Logger
}

func (t hostTransport) Peers() []peer.ID {
	infos := t.host.Peers()
	ids := make([]peer.ID, len(infos))
	for i, p := range infos {
		ids[i] = p.ID
	}
	return ids
}

func (t hostTransport) Broadcast(m Message) {
	msg, err := m.encode()
	if err != nil {
		t.log.Warn("not broadcast", "err", err)
		return
	}
	t.host.Broadcast(context.Background(), p2p.ConsensusProtocol, msg)
}

func (t hostTransport) Send(to peer.ID, m Message) error {
	msg, err := m.encode()
	if err != nil {
		return err
	}
	return t.host.Send(context.Background(), to, p2p.ConsensusProtocol, msg)
}

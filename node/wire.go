package node

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node/consensus"
)

// Consensus messages on /loyal/consensus/1.0.0:
//
//	'P' 1 | u32 len | proposal | u16 n | n votes (the POL) | block
//	'V' 1 | vote
//
// and transaction batches on /loyal/txs/1.0.0: 'T' 1 | u16 n | n × (u32 len | tx).
const (
	wireVersion = 1
	tagProposal = 'P'
	tagVote     = 'V'
	tagTxs      = 'T'
)

var errWire = errors.New("node: malformed peer message")

func encodeProposal(p *consensus.Proposal, pol []consensus.Vote, blk []byte) []byte {
	pe := p.Encode()
	out := make([]byte, 0, 8+len(pe)+len(pol)*consensus.VoteSize+len(blk))
	out = append(out, tagProposal, wireVersion)
	out = binary.BigEndian.AppendUint32(out, uint32(len(pe)))
	out = append(out, pe...)
	out = binary.BigEndian.AppendUint16(out, uint16(len(pol)))
	for i := range pol {
		out = append(out, pol[i].Encode()...)
	}
	return append(out, blk...)
}

func encodeVote(v *consensus.Vote) []byte {
	return append([]byte{tagVote, wireVersion}, v.Encode()...)
}

// peerMessage is a decoded consensus message: a proposal with its POL and block, or a vote.
type peerMessage struct {
	proposal *consensus.Proposal
	pol      []consensus.Vote
	block    *chain.Block
	vote     *consensus.Vote
}

func decodeConsensus(b []byte) (*peerMessage, error) {
	if len(b) < 2 || b[1] != wireVersion {
		return nil, fmt.Errorf("%w: header", errWire)
	}
	switch b[0] {
	case tagVote:
		v, err := consensus.DecodeVote(b[2:])
		if err != nil {
			return nil, err
		}
		return &peerMessage{vote: v}, nil
	case tagProposal:
		rest := b[2:]
		if len(rest) < 4 {
			return nil, fmt.Errorf("%w: short proposal", errWire)
		}
		n := binary.BigEndian.Uint32(rest)
		if uint64(n) > uint64(len(rest)-4) {
			return nil, fmt.Errorf("%w: proposal length", errWire)
		}
		p, err := consensus.DecodeProposal(rest[4 : 4+n])
		if err != nil {
			return nil, err
		}
		rest = rest[4+n:]
		if len(rest) < 2 {
			return nil, fmt.Errorf("%w: POL count", errWire)
		}
		count := int(binary.BigEndian.Uint16(rest))
		rest = rest[2:]
		if count > chain.MaxValidators || len(rest) < count*consensus.VoteSize {
			return nil, fmt.Errorf("%w: POL of %d votes", errWire, count)
		}
		pol := make([]consensus.Vote, count)
		for i := range pol {
			v, err := consensus.DecodeVote(rest[:consensus.VoteSize])
			if err != nil {
				return nil, err
			}
			pol[i] = *v
			rest = rest[consensus.VoteSize:]
		}
		blk, err := chain.DecodeBlock(rest)
		if err != nil {
			return nil, err
		}
		return &peerMessage{proposal: p, pol: pol, block: blk}, nil
	default:
		return nil, fmt.Errorf("%w: tag %q", errWire, b[0])
	}
}

func encodeTxs(txs [][]byte) []byte {
	n := 4
	for _, t := range txs {
		n += 4 + len(t)
	}
	out := make([]byte, 0, n)
	out = append(out, tagTxs, wireVersion)
	out = binary.BigEndian.AppendUint16(out, uint16(len(txs)))
	for _, t := range txs {
		out = binary.BigEndian.AppendUint32(out, uint32(len(t)))
		out = append(out, t...)
	}
	return out
}

func decodeTxs(b []byte) ([]*chain.Tx, error) {
	if len(b) < 4 || b[0] != tagTxs || b[1] != wireVersion {
		return nil, fmt.Errorf("%w: tx batch header", errWire)
	}
	count := int(binary.BigEndian.Uint16(b[2:]))
	rest := b[4:]
	out := make([]*chain.Tx, 0, count)
	for i := 0; i < count; i++ {
		if len(rest) < 4 {
			return nil, fmt.Errorf("%w: truncated tx batch", errWire)
		}
		n := binary.BigEndian.Uint32(rest)
		if uint64(n) > uint64(len(rest)-4) {
			return nil, fmt.Errorf("%w: tx length", errWire)
		}
		tx, err := chain.DecodeTx(rest[4 : 4+n])
		if err != nil {
			return nil, err
		}
		out = append(out, tx)
		rest = rest[4+n:]
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: trailing bytes in tx batch", errWire)
	}
	return out, nil
}

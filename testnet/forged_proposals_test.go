package testnet_test

import (
	"encoding/binary"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node"
	"github.com/loyal-ledger/loyal/node/consensus"
	"github.com/loyal-ledger/loyal/p2p"
	"github.com/loyal-ledger/loyal/testnet"
)

// An admitted observer that sends proposals — each with a block of 1,000 signed
// transactions, as the round's real proposer or as itself — is not the round's proposer: every
// one is dropped before any signature is recovered or any transaction executed, the peer is
// penalised until it is banned, and the chain goes on.
func TestObserverProposalsCostNoRecoveries(t *testing.T) {
	h := newHarness(t, testnet.ClusterOptions{Validators: 4, Observers: 1})
	alice := newKey(t)
	first := h.commit(0, h.c.Owner, h.earn(addr(alice), 1, "p-0"))
	if err := h.c.Stop(4); err != nil {
		t.Fatal(err)
	}
	observerKey, err := node.LoadKey(filepath.Join(h.c.Home(4), node.ConsensusKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	bad, err := p2p.New(p2p.Config{
		Key: observerKey, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, Validators: h.c.Genesis.Validators,
		ReconnectMin: time.Hour, ReconnectMax: time.Hour, // once banned, it stays away
	})
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	v0 := h.c.Node(0)
	v0ID := peerOf(t, v0)
	dialNodes(t, bad, v0)
	if err := bad.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, func() bool { return bad.Connected(v0ID) },
		func() string { return "the observer's key never reached validator 0" })

	// One block of 1,000 transactions, each validly signed by a customer: checking it would
	// cost 1,000 recoveries and its execution.
	txs := make([]*chain.Tx, 1000)
	for i := range txs {
		txs[i] = h.sign(newKey(t), &chain.Transfer{Program: testnet.ClusterProgram, To: addr(alice), Amount: 1})
	}
	height := first.Height + 1
	blk := &chain.Block{Header: chain.Header{ChainID: h.c.Genesis.ChainID, Height: height, Time: uint64(time.Now().Unix()), Proposer: h.c.Address(0)}, Txs: txs}
	blk.Header.TxRoot = blk.ComputeTxRoot()
	if blk.LastCommit, err = v0.Ledger().SeenCommit(first.Height); err != nil {
		t.Fatal(err)
	}
	blk.Header.LastCommitHash = blk.LastCommit.Hash()
	body := blk.Encode()
	validators := make([]chain.Address, 4)
	for i := range validators {
		validators[i] = h.c.Address(i)
	}
	cfg := consensus.Config{Validators: validators}

	before := dropped(t, v0)
	checkedBefore := byLabel(t, v0, "loyal_consensus_proposals_total", "result")
	sent := 0
	for i := 0; i < 60; i++ {
		round := uint32(i / 2)
		p := &consensus.Proposal{Height: height, Round: round, POLRound: -1, BlockHash: blk.Hash(), BlockTime: blk.Header.Time}
		if i%2 == 0 {
			p.Proposer = cfg.Proposer(height, round) // a real proposer, signed with the wrong key
		} else {
			p.Proposer = addr(observerKey) // itself, validly signed: but not a validator
		}
		if p.Sig, err = chain.SignVote(observerKey, p.Digest(h.c.Genesis.ChainID)); err != nil {
			t.Fatal(err)
		}
		if err := bad.Send(ctxFor(t, 5*time.Second), v0ID, p2p.ConsensusProtocol, proposalWire(p, body)); err == nil {
			sent++
		}
	}
	if sent == 0 {
		t.Fatal("no forged proposal left the observer's host")
	}
	// Validator 0 counts each one it read as not the proposer's, and bans the peer once its
	// violations run over the budget (20), so at least that many were read.
	eventually(t, 20*time.Second, func() bool {
		d := dropped(t, v0)
		return d["not_proposer"]-before["not_proposer"] >= 20 && p2pEvents(t, v0, "ban") >= 1
	}, func() string {
		return fmt.Sprintf("validator 0: drops %v (before %v), %d bans, %d sent", dropped(t, v0), before, p2pEvents(t, v0, "ban"), sent)
	})
	after := dropped(t, v0)
	if got := after["not_proposer"] - before["not_proposer"]; got > uint64(sent) {
		t.Errorf("%d proposals dropped as not the proposer's, only %d sent", got, sent)
	}
	if after["bad_signature"] != before["bad_signature"] {
		t.Errorf("a forged proposal's signature was checked: bad_signature drops %d → %d", before["bad_signature"], after["bad_signature"])
	}
	if got := byLabel(t, v0, "loyal_consensus_proposals_total", "result")["invalid"]; got != checkedBefore["invalid"] {
		t.Errorf("forged proposals reached the block check: %d invalid blocks, %d before", got, checkedBefore["invalid"])
	}

	// The chain goes on.
	next := h.commit(1, h.c.Owner, h.earn(addr(alice), 1, "p-1"))
	h.agree(next.Height, 0, 1, 2, 3)
}

// proposalWire is a proposal message as the node sends it: 'P' 1 | u32 len | proposal |
// u16 0 (no POL) | block.
func proposalWire(p *consensus.Proposal, block []byte) []byte {
	pe := p.Encode()
	out := []byte{'P', 1}
	out = binary.BigEndian.AppendUint32(out, uint32(len(pe)))
	out = append(out, pe...)
	out = binary.BigEndian.AppendUint16(out, 0)
	return append(out, block...)
}

// dialNodes tells host where the nodes listen, so it keeps them connected.
func dialNodes(t *testing.T, host *p2p.Host, nodes ...*node.Node) {
	t.Helper()
	for _, n := range nodes {
		for _, a := range n.P2PAddrs() {
			info, err := peer.AddrInfoFromP2pAddr(a)
			if err != nil {
				t.Fatal(err)
			}
			if err := host.AddAddrs(info.ID, info.Addrs); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func peerOf(t *testing.T, n *node.Node) peer.ID {
	t.Helper()
	info, err := peer.AddrInfoFromP2pAddr(n.P2PAddrs()[0])
	if err != nil {
		t.Fatal(err)
	}
	return info.ID
}

// dropped is loyal_consensus_dropped_messages_total by reason.
func dropped(t *testing.T, n *node.Node) map[string]uint64 {
	return byLabel(t, n, "loyal_consensus_dropped_messages_total", "reason")
}

// byLabel is a counter's series by the value of one label.
func byLabel(t *testing.T, n *node.Node, name, label string) map[string]uint64 {
	t.Helper()
	mfs, err := n.Metrics().Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label {
					out[l.GetValue()] = uint64(m.GetCounter().GetValue())
				}
			}
		}
	}
	return out
}

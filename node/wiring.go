package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node/consensus"
	"github.com/loyal-ledger/loyal/node/internal/mempool"
	"github.com/loyal-ledger/loyal/p2p"
)

// newDriver makes the driver, its engine resumed from the persisted signed state, for the
// height after the head. Messages go nowhere until newNetwork gives it a transport.
func (n *Node) newDriver() (*driver, error) {
	signed := &signedStateFile{path: n.signedStatePath()}
	persisted, err := signed.load()
	if err != nil {
		return nil, err
	}
	if persisted != nil && persisted.Height <= n.ledger.Head().Height {
		// Of a height already committed: the engine would never use it, and its votes may be
		// of a set that has changed since (a removed validator's in its lock).
		persisted = nil
	}
	eng, err := consensus.New(n.consensusConfig(), persisted)
	if err != nil {
		return nil, err
	}
	head := n.ledger.Head()
	d := &driver{
		ledger: n.ledger, pool: n.pool, eng: eng, out: noPeers{}, signed: signed, evidence: n.evidence,
		commits: &commitBook{watermark: n.watermark, desk: n.desk, pool: n.pool, nonceOf: n.ledger.CommittedNonce, metrics: n.metrics, feed: n.feed, log: n.log}, sync: func() {}, metrics: n.metrics, log: n.log.With("component", "consensus"),
		now: n.now, self: n.validator, limits: n.cfg.Blocks,
		votes: make(chan consensus.VoteReceived, maxEarlyVotes), timeouts: make(chan consensus.TimeoutFired), proposals: make(chan proposalIn, 16),
		fetched: make(chan applyRequest), wake: make(chan struct{}, 1), attachments: make(chan attachment),
	}
	// A validator that signed something at the next height before it stopped resumes there at
	// once: its peers may be waiting for what it sends again.
	d.early = persisted != nil && persisted.Height == head.Height+1
	d.sets = &validatorWatch{self: n.validator, log: d.log}
	return d, nil
}

// consensusConfig configures the engine for the height after the head, with the validator set
// the ledger's rules put in force there.
func (n *Node) consensusConfig() consensus.Config {
	rules := n.ledger.RulesAt(n.ledger.Head().Height + 1)
	c := n.cfg.Consensus
	return consensus.Config{
		ChainID: rules.ChainID, Validators: rules.ValidatorAddresses(), Self: n.validator,
		Signer:         voteSigner{key: n.key, addr: n.validator},
		TimeoutPropose: c.TimeoutPropose.Duration, TimeoutPrevote: c.TimeoutPrevote.Duration,
		TimeoutPrecommit: c.TimeoutPrecommit.Duration, TimeoutIncrement: c.TimeoutIncrement.Duration,
		TimeoutMax: c.TimeoutMax.Duration, MaxDrift: c.MaxDrift.Duration,
	}
}

// newNetwork builds the p2p side, and what the driver needs of it: its transport (wrapped by
// Options.WrapTransport, if given), its way to block sync, the allow-list and the signed
// state file its votes need from now on.
func (n *Node) newNetwork() (*network, attachment, error) {
	wrap := n.wrap
	var observers []peer.ID
	for _, s := range n.cfg.P2P.Observers {
		id, err := peer.Decode(s)
		if err != nil {
			return nil, attachment{}, fmt.Errorf("%w: p2p.observers: %q: %v", ErrBadConfig, s, err)
		}
		observers = append(observers, id)
	}
	rules := n.ledger.RulesAt(n.ledger.Head().Height + 1)
	cfg := p2p.Config{
		Key: n.key, ListenAddrs: n.cfg.P2P.Listen, Validators: rules.Validators,
		Registerer: n.metrics.Registry, // loyal_p2p_* at /metrics
		Observers:  observers, Bootstrap: n.cfg.P2P.Bootstrap, Logger: n.log.With("component", "p2p"),
		// One service per network, so that two Loyal networks on a LAN do not answer each
		// other's queries: "_loyal-" and 4 bytes of the genesis hash (15 bytes, DNS-SD's limit).
		MDNS: n.cfg.P2P.MDNS, MDNSService: fmt.Sprintf("_loyal-%x._udp", n.genesis.Hash().Bytes()[:4]),
		Consensus: p2p.ProtocolLimits{MaxMessage: rules.Params.MaxBlockBytes + 1<<20},
		Txs:       p2p.ProtocolLimits{MaxMessage: 4 << 20, Rate: 200, Burst: 400},
		Sync:      p2p.ProtocolLimits{MaxResponse: 64 << 20},
	}
	nw, err := newNetwork(cfg, n.ledger, n.admitPeer, n.pool, n.drv, n.drv, n.metrics.PeerDrops, n.log)
	if err != nil {
		return nil, attachment{}, err
	}
	out := Transport(hostTransport{host: nw.host, log: n.drv.log})
	if wrap != nil {
		if out = wrap(out); out == nil {
			nw.host.Close()
			return nil, attachment{}, errors.New("node: Options.WrapTransport returned no transport")
		}
	}
	n.desk.shared.Store(true)
	return nw, attachment{out: out, sync: nw.kickSync, signed: &signedStateFile{path: n.signedStatePath()}, hosts: nw.host}, nil
}

// needPeers asks Run to open the p2p side (called by the driver; never blocks).
func (n *Node) needPeers() {
	select {
	case n.lonely <- struct{}{}:
	default:
	}
}

// joinNetwork waits until a lone validator's chain lists another node, then opens the p2p
// side, hands it to the driver and runs it until ctx ends.
func (n *Node) joinNetwork(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-n.lonely:
	}
	nw, a, err := n.newNetwork()
	if err != nil {
		return err
	}
	n.netMu.Lock()
	if n.closed {
		n.netMu.Unlock()
		nw.host.Close()
		return nil
	}
	n.net.Store(nw)
	n.netMu.Unlock()
	select {
	case n.drv.attachments <- a:
	case <-ctx.Done():
		nw.host.Close()
		return nil
	}
	n.log.Info("the validator set lists other nodes: p2p opened", "addrs", nw.host.Addrs())
	return nw.run(ctx)
}

// noPeers is the transport of a network's only validator: there is nobody to send to.
type noPeers struct{}

func (noPeers) Peers() []peer.ID            { return nil }
func (noPeers) Broadcast(Message)           {}
func (noPeers) Send(peer.ID, Message) error { return errors.New("node: no peers") }

// commitBook is the node's bookkeeping of every block the driver commits: the mempool forgets
// its transactions, metrics and log record it, and API requests waiting for a commit wake up.
type commitBook struct {
	watermark *watermark
	desk      *merchantDesk
	pool      *mempool.Mempool
	nonceOf   mempool.NonceFunc
	metrics   *Metrics
	feed      *commitFeed
	log       *slog.Logger
}

func (n *commitBook) committed(blk *chain.Block, senders []chain.Address, took time.Duration) error {
	if err := n.watermark.Advance(blk.Header.Height); err != nil {
		return err
	}
	if err := n.pool.UpdateWithSenders(blk.Txs, senders, n.nonceOf, blk.Header.Time); err != nil {
		return fmt.Errorf("node: mempool: %w", err)
	}
	h := blk.Header.Height
	n.metrics.Height.Set(float64(h))
	n.metrics.Blocks.Inc()
	n.metrics.CommittedTxs.Add(float64(len(blk.Txs)))
	n.metrics.BlockApply.Observe(took.Seconds())
	setPoolGauges(n.metrics, n.pool)
	n.desk.committed(blk)
	n.feed.committed(h)
	n.log.Info("committed block", "height", h, "txs", len(blk.Txs), "hash", blk.Hash(), "time", blk.Header.Time, "took", took.Round(time.Microsecond))
	return nil
}

// rejected tells the merchant desk, which reports its failed orders and signs its later ones
// again.
func (n *commitBook) rejected(rejected []error) { n.desk.rejected(rejected) }

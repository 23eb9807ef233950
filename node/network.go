package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
	"github.com/loyal-ledger/loyal/node/consensus"
	"github.com/loyal-ledger/loyal/node/internal/blocksync"
	"github.com/loyal-ledger/loyal/node/internal/mempool"
	"github.com/loyal-ledger/loyal/p2p"
)

// network is the node's side of p2p: its host, the checks peers' consensus messages pass
// before they reach the driver, transaction gossip and block sync. A chain's lone validator
// has none until the chain lists another node: it has nobody to talk to.
type network struct {
	host   *p2p.Host
	ledger *ledger.Ledger        // read only: the driver writes it
	admit  func(*chain.Tx) error // admission of a peer's transaction, with a client's checks
	pool   *mempool.Mempool      // for re-gossip
	sync   *blocksync.Syncer
	to     driverInbox
	log    *slog.Logger
	drops  *prometheus.CounterVec // messages refused, by reason

	kick chan struct{} // asks the sync loop to look for peers ahead of us

	gossipMu sync.Mutex
	gossip   [][]byte // encoded txs waiting for the next batch to peers
}

// driverInbox is where the network hands the driver what peers sent.
type driverInbox interface {
	proposal(proposalIn)
	vote(consensus.VoteReceived)
	nudge()
}

// newNetwork builds the p2p host and registers the node's protocols on it; nothing is
// started until run.
func newNetwork(cfg p2p.Config, l *ledger.Ledger, admit func(*chain.Tx) error, pool *mempool.Mempool, apply blocksync.Applier, to driverInbox, drops *prometheus.CounterVec, log *slog.Logger) (*network, error) {
	host, err := p2p.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("node: p2p: %w", err)
	}
	nw := &network{host: host, ledger: l, admit: admit, pool: pool, to: to, drops: drops, log: log, kick: make(chan struct{}, 1)}
	nw.sync = blocksync.New(l, apply, host, log.With("component", "sync"), 64<<20)
	host.HandleRequests(func(ctx context.Context, _ peer.ID, _ chain.Address, req []byte) ([]byte, error) {
		return nw.sync.Serve(ctx, req)
	})
	if err := host.Handle(p2p.ConsensusProtocol, nw.onConsensusMessage); err != nil {
		host.Close()
		return nil, err
	}
	if err := host.Handle(p2p.TxsProtocol, nw.onTxs); err != nil {
		host.Close()
		return nil, err
	}
	return nw, nil
}

// run starts the host and keeps gossip and block sync going until ctx ends.
func (nw *network) run(ctx context.Context) error {
	if err := nw.host.Start(); err != nil {
		return err
	}
	defer nw.host.Close()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); nw.syncLoop(ctx) }()
	go func() { defer wg.Done(); nw.gossipLoop(ctx) }()
	wg.Wait()
	return nil
}

// onConsensusMessage runs on a peer's reader goroutine. What is cheap comes first: a message
// is dropped, and its peer penalised, unless its peer signed it — a proposal's peer must be
// the proposer of its height and round, a vote's peer its voter — before any signature is
// recovered; then signatures are verified, and the driver gets the message.
func (nw *network) onConsensusMessage(from peer.ID, sender chain.Address, raw []byte) {
	m, err := decodeConsensus(raw)
	if err != nil {
		nw.penalize(from, "malformed", err.Error())
		return
	}
	chainID := nw.ledger.Genesis().ChainID
	head := nw.ledger.Head()
	if v := m.vote; v != nil {
		if v.Validator != sender {
			nw.penalize(from, "not_signer", fmt.Sprintf("a vote of %s sent by %s", v.Validator.Hex(), sender.Hex()))
			return
		}
		if v.Height <= head.Height { // of a committed height: nothing to do with it
			return
		}
		if v.Height > head.Height+chain.ActivationDelay {
			// Sets that far ahead may be decided by blocks this node has yet to commit: it
			// cannot judge the voter, only see that it is behind.
			nw.kickSync()
			return
		}
		if nw.ledger.RulesAt(v.Height).ValidatorIndex(sender) < 0 {
			nw.penalize(from, "not_signer", fmt.Sprintf("a vote from %s, not a validator at height %d", sender.Hex(), v.Height))
			return
		}
		if err := v.Verify(chainID); err != nil {
			nw.penalize(from, "bad_signature", err.Error())
			return
		}
		if v.Height > head.Height+1 {
			nw.kickSync()
		}
		nw.to.vote(consensus.VoteReceived{Vote: *v})
		return
	}
	p := m.proposal
	if p.Height > head.Height+chain.ActivationDelay {
		nw.kickSync() // as for votes: its proposer cannot be judged yet
		return
	}
	if want := proposerOf(nw.ledger, p.Height, p.Round); p.Proposer != sender || want != sender {
		nw.penalize(from, "not_proposer", fmt.Sprintf("a proposal of %s for height %d round %d (proposer %s) sent by %s",
			p.Proposer.Hex(), p.Height, p.Round, want.Hex(), sender.Hex()))
		return
	}
	if p.Height <= head.Height {
		return // old news
	}
	if p.Height > head.Height+1 {
		nw.kickSync() // its block cannot be checked yet: catch up instead
		return
	}
	if err := p.Verify(chainID); err != nil {
		nw.penalize(from, "bad_signature", err.Error())
		return
	}
	for i := range m.pol {
		if err := m.pol[i].Verify(chainID); err != nil {
			nw.penalize(from, "bad_signature", err.Error())
			return
		}
	}
	nw.to.proposal(proposalIn{proposal: *p, pol: m.pol, block: m.block})
}

// proposerOf is the validator whose turn it is to propose at height and round, under the
// rules in force at that height.
func proposerOf(l *ledger.Ledger, height uint64, round uint32) chain.Address {
	c := consensus.Config{Validators: l.RulesAt(height).ValidatorAddresses()}
	return c.Proposer(height, round)
}

// penalize counts a peer's bad message (by reason) and charges the peer for it.
func (nw *network) penalize(from peer.ID, reason, detail string) {
	nw.drops.WithLabelValues(reason).Inc()
	nw.host.Penalize(from, reason+": "+detail)
}

// onTxs admits a batch of transactions gossiped by a peer.
func (nw *network) onTxs(from peer.ID, _ chain.Address, raw []byte) {
	txs, err := decodeTxs(raw)
	if err != nil {
		nw.penalize(from, "malformed", err.Error())
		return
	}
	// Admission recovers each signature and checks each transaction against the state:
	// spread a batch over the cores, since one reader goroutine per peer would otherwise do
	// it serially.
	var added atomic.Int64
	workers := min(runtime.GOMAXPROCS(0), (len(txs)+63)/64)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(txs); i += workers {
				if err := nw.admit(txs[i]); err == nil {
					added.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if added.Load() > 0 {
		nw.to.nudge()
	}
}

// gossipTx queues a transaction admitted here for the next batch to peers.
func (nw *network) gossipTx(tx *chain.Tx) {
	nw.gossipMu.Lock()
	nw.gossip = append(nw.gossip, tx.Encode())
	nw.gossipMu.Unlock()
}

// Re-gossip: best-effort delivery loses a transaction sent while no peer was connected, so
// every regossipEvery the ready transactions of the mempool (at most regossipMax of them) go
// out again; peers drop the ones they hold by hash, before any signature work.
const (
	regossipEvery = 2 * time.Second
	regossipMax   = 2000
)

// gossipLoop sends the queued transactions to every peer in batches.
func (nw *network) gossipLoop(ctx context.Context) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	lastRegossip := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		nw.gossipMu.Lock()
		batch := nw.gossip
		nw.gossip = nil
		nw.gossipMu.Unlock()
		if time.Since(lastRegossip) >= regossipEvery {
			lastRegossip = time.Now()
			if txs, _, err := nw.pool.Ready(regossipMax, 4<<20, nw.ledger.CommittedNonce); err == nil {
				for _, tx := range txs {
					batch = append(batch, tx.Encode())
				}
			}
		}
		for len(batch) > 0 {
			size, k := 4, 0
			for k < len(batch) && k < 65535 && size+4+len(batch[k]) <= 4<<20 {
				size += 4 + len(batch[k])
				k++
			}
			nw.host.Broadcast(ctx, p2p.TxsProtocol, encodeTxs(batch[:k]))
			batch = batch[k:]
		}
	}
}

// kickSync asks the sync loop to look for peers ahead of this node, without blocking.
func (nw *network) kickSync() {
	select {
	case nw.kick <- struct{}{}:
	default:
	}
}

// syncLoop catches up from peers at start, when kicked (a message from a later height, a
// committed block this node lacks), and every few seconds without a commit. The blocks it
// fetches are committed by the driver.
func (nw *network) syncLoop(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	lastHeight := nw.ledger.Head().Height
	for {
		var ids []peer.ID
		for _, p := range nw.host.Peers() {
			ids = append(ids, p.ID)
		}
		if len(ids) > 0 {
			applied, err := nw.sync.CatchUp(ctx, ids, 0)
			if applied > 0 {
				nw.log.Info("caught up from peers", "blocks", applied, "height", nw.ledger.Head().Height)
				nw.to.nudge()
			}
			if err != nil && ctx.Err() == nil && !errors.Is(err, blocksync.ErrNoProgress) {
				nw.log.Debug("sync", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-nw.kick:
		case <-t.C:
			if h := nw.ledger.Head().Height; h != lastHeight {
				lastHeight = h
				continue
			}
		}
	}
}

// P2PAddrs are the node's libp2p addresses with its peer id (nil while the node is its
// chain's only validator).
func (n *Node) P2PAddrs() []ma.Multiaddr {
	nw := n.net.Load()
	if nw == nil {
		return nil
	}
	return nw.host.Addrs()
}

// AddPeer tells the node where a validator or observer listens ("/ip4/…/tcp/…/p2p/ID").
func (n *Node) AddPeer(addr ma.Multiaddr) error {
	nw := n.net.Load()
	if nw == nil {
		return errors.New("node: a single-validator network has no peers")
	}
	info, err := peer.AddrInfoFromP2pAddr(addr)
	if err != nil {
		return err
	}
	return nw.host.AddAddrs(info.ID, info.Addrs)
}

// BlockPeer cuts the node off from another validator or observer until UnblockPeer (an
// operator's emergency brake; tests use it to partition a network).
func (n *Node) BlockPeer(a chain.Address) error {
	id, err := n.knownPeer(a)
	if err == nil {
		n.net.Load().host.Block(id)
	}
	return err
}

// UnblockPeer undoes BlockPeer.
func (n *Node) UnblockPeer(a chain.Address) error {
	id, err := n.knownPeer(a)
	if err == nil {
		n.net.Load().host.Unblock(id)
	}
	return err
}

// knownPeer is the peer id of an allowed validator or observer.
func (n *Node) knownPeer(a chain.Address) (peer.ID, error) {
	nw := n.net.Load()
	if nw == nil {
		return "", errors.New("node: a single-validator network has no peers")
	}
	id, ok := nw.host.PeerIDFor(a)
	if !ok {
		return "", fmt.Errorf("node: %s is not a known peer", a.Hex())
	}
	return id, nil
}

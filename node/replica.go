package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/internal/fsutil"
	"github.com/loyal-ledger/loyal/node/consensus"
	"github.com/loyal-ledger/loyal/node/internal/blocksync"
	"github.com/loyal-ledger/loyal/p2p"
)

// signedStateFile is where a validator keeps what it last signed (consensus.SignedState),
// written durably before the message leaves the node.
const signedStateFile = "signed_state.bin"

// replica drives the consensus engine for a node of a multi-validator network (or an
// observer): one goroutine (run) owns the engine; p2p handlers, timers and the syncer send it
// events through a channel. It persists what the engine signs before broadcasting it, builds
// and validates blocks with the ledger, and applies committed ones.
type replica struct {
	n    *Node
	host *p2p.Host
	out  Transport // the consensus messages' way out: the host's, or what wraps it
	eng  *consensus.Engine
	sync *blocksync.Syncer
	log  *slog.Logger

	events chan any      // consensus.Event, or syncedEvent
	kick   chan struct{} // asks the sync loop to look for peers ahead of us

	mu     sync.Mutex
	blocks map[chain.Hash]*heldBlock // blocks of the current height (proposed or built)

	status atomic.Pointer[consensus.Status] // the engine's, after its last step

	timers  map[*time.Timer]struct{}
	timerMu sync.Mutex

	gossipMu sync.Mutex
	gossip   [][]byte // encoded txs waiting for the next batch to peers

	// Owned by the run loop.
	waiting      bool      // the next height has not started
	early        bool      // a peer's message of the next height arrived
	held         []any     // those messages, stepped once it starts
	lastCommitAt time.Time // wall time of the last commit, for the heartbeat
}

// heldBlock is a block the replica holds for the current height, with its senders.
type heldBlock struct {
	blk     *chain.Block
	senders []chain.Address
	valid   bool
}

// consensusConfig configures the engine for the height after the head, with the validator set
// the ledger's rules put in force there.
func (n *Node) consensusConfig() consensus.Config {
	rules := n.ledger.RulesAt(n.ledger.Head().Height + 1)
	c := n.cfg.Consensus
	return consensus.Config{
		ChainID: rules.ChainID, Validators: rules.ValidatorAddresses(), Self: n.validator, Signer: voteSigner{n},
		TimeoutPropose: c.TimeoutPropose.Duration, TimeoutPrevote: c.TimeoutPrevote.Duration,
		TimeoutPrecommit: c.TimeoutPrecommit.Duration, TimeoutIncrement: c.TimeoutIncrement.Duration,
		TimeoutMax: c.TimeoutMax.Duration, MaxDrift: c.MaxDrift.Duration,
	}
}

// voteSigner signs the engine's votes and proposals with the consensus key.
type voteSigner struct{ n *Node }

func (s voteSigner) Address() chain.Address { return s.n.validator }
func (s voteSigner) SignVote(d chain.Hash) ([65]byte, error) {
	return chain.SignVote(s.n.key, d)
}

func (n *Node) signedStatePath() string { return filepath.Join(n.dataDir, signedStateFile) }

// newReplica builds the p2p host, the transport of consensus messages (wrapped by wrap, if
// not nil) and the engine (restored from the persisted signed state).
func newReplica(n *Node, wrap func(Transport) Transport) (*replica, error) {
	var observers []peer.ID
	for _, s := range n.cfg.P2P.Observers {
		id, err := peer.Decode(s)
		if err != nil {
			return nil, fmt.Errorf("%w: p2p.observers: %q: %v", ErrBadConfig, s, err)
		}
		observers = append(observers, id)
	}
	rules := n.ledger.RulesAt(n.ledger.Head().Height + 1)
	p := rules.Params
	host, err := p2p.New(p2p.Config{
		Key: n.key, ListenAddrs: n.cfg.P2P.Listen, Validators: rules.Validators,
		Registerer: n.metrics.Registry, // loyal_p2p_* at /metrics
		Observers:  observers, Bootstrap: n.cfg.P2P.Bootstrap, Logger: n.log.With("component", "p2p"),
		// One service per network, so that two Loyal networks on a LAN do not answer each
		// other's queries: "_loyal-" and 4 bytes of the genesis hash (15 bytes, DNS-SD's limit).
		MDNS: n.cfg.P2P.MDNS, MDNSService: fmt.Sprintf("_loyal-%x._udp", n.genesis.Hash().Bytes()[:4]),
		Consensus: p2p.ProtocolLimits{MaxMessage: p.MaxBlockBytes + 1<<20},
		Txs:       p2p.ProtocolLimits{MaxMessage: 4 << 20, Rate: 200, Burst: 400},
		Sync:      p2p.ProtocolLimits{MaxResponse: 64 << 20},
	})
	if err != nil {
		return nil, fmt.Errorf("node: p2p: %w", err)
	}
	var persisted *consensus.SignedState
	raw, err := os.ReadFile(n.signedStatePath())
	switch {
	case err == nil:
		if persisted, err = consensus.DecodeSignedState(raw); err != nil {
			host.Close()
			return nil, fmt.Errorf("node: %s: %w", n.signedStatePath(), err)
		}
	case !errors.Is(err, os.ErrNotExist):
		host.Close()
		return nil, fmt.Errorf("node: %w", err)
	}
	eng, err := consensus.New(n.consensusConfig(), persisted)
	if err != nil {
		host.Close()
		return nil, err
	}
	r := &replica{
		n: n, host: host, eng: eng, log: n.log.With("component", "consensus"),
		events: make(chan any, 4096), kick: make(chan struct{}, 1),
		blocks: map[chain.Hash]*heldBlock{}, timers: map[*time.Timer]struct{}{},
	}
	r.out = hostTransport{host: host, log: r.log}
	if wrap != nil {
		if r.out = wrap(r.out); r.out == nil {
			host.Close()
			return nil, errors.New("node: Options.WrapTransport returned no transport")
		}
	}
	r.sync = blocksync.New(n.ledger, host, n.log.With("component", "sync"), 64<<20)
	r.sync.Applied = func(blk *chain.Block, senders []chain.Address, took time.Duration) {
		if err := n.afterCommit(blk, senders, took); err != nil {
			r.log.Error("after a synced block", "height", blk.Header.Height, "err", err)
		}
	}
	host.HandleRequests(func(ctx context.Context, _ peer.ID, _ chain.Address, req []byte) ([]byte, error) {
		return r.sync.Serve(ctx, req)
	})
	if err := host.Handle(p2p.ConsensusProtocol, r.onConsensusMessage); err != nil {
		host.Close()
		return nil, err
	}
	if err := host.Handle(p2p.TxsProtocol, r.onTxs); err != nil {
		host.Close()
		return nil, err
	}
	return r, nil
}

// run starts the host and drives the engine until ctx ends.
//
// A height starts (NewHeight is stepped) only when there is something to do: a transaction
// pending, the heartbeat due, or a proposal or vote of that height from a peer — so an idle
// network makes no empty blocks — and not while the chain's time would run more than
// maxClockLead ahead of this node's clock.
func (r *replica) run(ctx context.Context) error {
	if err := r.host.Start(); err != nil {
		return err
	}
	defer r.host.Close()
	defer r.stopTimers()
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	wg.Add(2)
	go func() { defer wg.Done(); r.syncLoop(ctx) }()
	go func() { defer wg.Done(); r.gossipLoop(ctx) }()

	if err := r.stepNewHeight(); err != nil { // at start: resume at once
		return err
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		if r.waiting {
			if wait, ok := r.startIn(); ok {
				if err := r.start(); err != nil {
					return err
				}
			} else {
				timer.Reset(wait)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.n.wake:
		case <-timer.C:
		case ev := <-r.events:
			if err := r.onEvent(ev); err != nil {
				return err
			}
		}
	}
}

// startIn says whether the next height may start now, or how long to wait at most before
// asking again.
func (r *replica) startIn() (time.Duration, bool) {
	n := r.n
	head := n.ledger.Head()
	now := n.now()
	if lead := time.Unix(int64(head.Time)+1, 0).Sub(now); lead > maxClockLead {
		return lead - maxClockLead, false
	}
	if r.early {
		return 0, true
	}
	if txs, _ := n.pool.Size(); txs > 0 {
		return 0, true
	}
	hb := n.cfg.Blocks.Heartbeat.Duration
	if hb <= 0 {
		return time.Hour, false
	}
	if since := now.Sub(r.lastCommitAt); since < hb {
		return hb - since, false
	}
	return 0, true
}

// start steps NewHeight and then the messages of that height that came before it.
func (r *replica) start() error {
	r.waiting, r.early = false, false
	if err := r.stepNewHeight(); err != nil {
		return err
	}
	held := r.held
	r.held = nil
	for _, ev := range held {
		if err := r.onEvent(ev); err != nil {
			return err
		}
	}
	return nil
}

// onEvent steps one event, holding back messages of the next height until it starts.
func (r *replica) onEvent(ev any) error {
	next := r.n.ledger.Head().Height + 1
	switch e := ev.(type) {
	case syncedEvent:
		if e.height+1 > r.eng.Status().Height {
			r.waiting = true
		}
		return nil
	case consensus.ProposalReceived:
		if r.waiting && e.Proposal.Height == next {
			r.holdForStart(ev)
			return nil
		}
	case consensus.VoteReceived:
		if r.waiting && e.Vote.Height == next {
			r.holdForStart(ev)
			return nil
		}
	case consensus.TimeoutFired:
		if r.waiting {
			return nil // of a height already committed
		}
	}
	acts, err := r.eng.Step(ev.(consensus.Event))
	if err != nil {
		r.log.Debug("engine refused an event", "err", err)
	}
	return r.handle(acts)
}

// holdForStart keeps a peer's message of the next height until it starts, and starts it.
func (r *replica) holdForStart(ev any) {
	r.early = true
	if len(r.held) < maxHeldEvents {
		r.held = append(r.held, ev)
	}
}

// maxHeldEvents bounds the messages held back before a height starts.
const maxHeldEvents = 4096

// syncedEvent tells the loop that the syncer applied blocks up to height.
type syncedEvent struct{ height uint64 }

// stepNewHeight starts the engine on the height after the ledger's head.
func (r *replica) stepNewHeight() error {
	head := r.n.ledger.Head()
	r.mu.Lock()
	for h, b := range r.blocks {
		if b.blk.Header.Height <= head.Height {
			delete(r.blocks, h)
		}
	}
	r.mu.Unlock()
	acts, err := r.eng.Step(consensus.NewHeight{Now: r.n.now(), Height: head.Height + 1, ParentHash: head.Hash, ParentTime: head.Time})
	if err != nil && !errors.Is(err, consensus.ErrOldHeight) {
		return fmt.Errorf("node: consensus at height %d: %w", head.Height+1, err)
	}
	return r.handle(acts)
}

// handle carries out the engine's actions in order: each one's durable part before the next.
func (r *replica) handle(acts []consensus.Action) error {
	st := r.eng.Status()
	r.status.Store(&st)
	r.n.metrics.Round.Set(float64(st.Round))
	for _, a := range acts {
		switch a := a.(type) {
		case consensus.Persist:
			if err := fsutil.WriteFileAtomic(r.n.signedStatePath(), a.State.Encode(), 0o600); err != nil {
				return fmt.Errorf("node: persist signed state: %w", err)
			}
		case consensus.Broadcast:
			r.broadcast(a)
		case consensus.ScheduleTimeout:
			r.schedule(a)
		case consensus.BuildBlock:
			if err := r.build(a); err != nil {
				return err
			}
		case consensus.Commit:
			if err := r.commit(a); err != nil {
				return err
			}
		case consensus.Evidence:
			r.n.evidence.addVotes(a.A, a.B)
		case consensus.ProposalEvidence:
			r.n.evidence.addProposals(a.A, a.B)
		}
	}
	return nil
}

func (r *replica) broadcast(b consensus.Broadcast) {
	if b.Vote != nil {
		r.out.Broadcast(Message{Vote: b.Vote})
		return
	}
	r.mu.Lock()
	held := r.blocks[b.Proposal.BlockHash]
	r.mu.Unlock()
	if held == nil {
		r.log.Warn("no block body for our proposal", "hash", b.Proposal.BlockHash)
		return
	}
	r.out.Broadcast(Message{Proposal: b.Proposal, POL: b.POL, Block: held.blk})
}

// schedule arms a timer that steps TimeoutFired into the loop.
func (r *replica) schedule(a consensus.ScheduleTimeout) {
	r.timerMu.Lock()
	defer r.timerMu.Unlock()
	var t *time.Timer
	t = time.AfterFunc(a.After, func() {
		r.timerMu.Lock()
		_, live := r.timers[t]
		delete(r.timers, t)
		r.timerMu.Unlock()
		if live {
			r.push(consensus.TimeoutFired{Now: r.n.now(), Height: a.Height, Round: a.Round, Step: a.Step})
		}
	})
	r.timers[t] = struct{}{}
}

func (r *replica) stopTimers() {
	r.timerMu.Lock()
	defer r.timerMu.Unlock()
	for t := range r.timers {
		t.Stop()
	}
	clear(r.timers)
}

// push hands an event to the loop without blocking a network reader for long: if the loop is
// that far behind, the event is dropped (a lost message; consensus tolerates it).
func (r *replica) push(ev any) {
	select {
	case r.events <- ev:
	default:
		r.log.Warn("consensus event queue full: dropping an event")
	}
}

// build makes this validator's proposal block from the mempool.
func (r *replica) build(a consensus.BuildBlock) error {
	n := r.n
	last, err := r.lastCommit(a.Height - 1)
	if err != nil {
		return err
	}
	maxTxs, maxBytes := n.blockLimits(last)
	txs, senders, err := n.pool.Ready(maxTxs, maxBytes, n.nonceOf)
	if err != nil {
		return err
	}
	t := max(uint64(n.now().Unix()), a.ParentTime+1)
	blk, rejected, err := n.ledger.BuildBlock(t, n.validator, txs, senders, last)
	if err != nil {
		return fmt.Errorf("node: build block %d: %w", a.Height, err)
	}
	n.dropRejected(rejected)
	if len(blk.Txs) != len(txs) { // rejected, or cut to the block limits
		senders = keptSenders(txs, senders, blk.Txs)
	}
	h := blk.Hash()
	r.mu.Lock()
	r.blocks[h] = &heldBlock{blk: blk, senders: senders, valid: true}
	r.mu.Unlock()
	acts, err := r.eng.Step(consensus.BlockBuilt{Now: n.now(), Height: a.Height, Round: a.Round, BlockHash: h, BlockTime: blk.Header.Time})
	if err != nil {
		r.log.Debug("engine refused our block", "err", err)
	}
	return r.handle(acts)
}

// lastCommit is the certificate of the block at height (nil for height 0).
func (r *replica) lastCommit(height uint64) (*chain.Commit, error) {
	if height == 0 {
		return nil, nil
	}
	return r.n.ledger.SeenCommit(height)
}

// commit applies a committed block (fetching it from peers if this node lacks it) and moves
// the engine to the next height.
func (r *replica) commit(a consensus.Commit) error {
	n := r.n
	if n.ledger.Head().Height < a.Height {
		r.mu.Lock()
		held := r.blocks[a.BlockHash]
		r.mu.Unlock()
		if held == nil {
			r.log.Info("committed block not held: fetching it", "height", a.Height)
			r.kickSync()
			return nil // the syncer applies it and reports back
		}
		start := n.now()
		if err := n.ledger.ApplyBlockWithSenders(held.blk, held.senders, a.Certificate); err != nil {
			if n.ledger.Head().Height < a.Height {
				return fmt.Errorf("node: apply committed block %d: %w", a.Height, err)
			}
		} else if err := n.afterCommit(held.blk, held.senders, n.now().Sub(start)); err != nil {
			return err
		}
	}
	r.waiting, r.lastCommitAt = true, n.now()
	return nil
}

// onConsensusMessage runs on a peer's reader goroutine: decode, verify signatures, check a
// proposal's block against the ledger, then hand the event to the loop.
func (r *replica) onConsensusMessage(from peer.ID, _ chain.Address, raw []byte) {
	m, err := decodeConsensus(raw)
	if err != nil {
		r.host.Penalize(from, err.Error())
		return
	}
	chainID := r.n.genesis.ChainID
	head := r.n.ledger.Head()
	now := r.n.now()
	if m.vote != nil {
		if err := m.vote.Verify(chainID); err != nil {
			r.host.Penalize(from, err.Error())
			return
		}
		if m.vote.Height > head.Height+1 {
			r.kickSync()
		}
		r.push(consensus.VoteReceived{Now: now, Vote: *m.vote})
		return
	}
	p := m.proposal
	if err := p.Verify(chainID); err != nil {
		r.host.Penalize(from, err.Error())
		return
	}
	for i := range m.pol {
		if err := m.pol[i].Verify(chainID); err != nil {
			r.host.Penalize(from, err.Error())
			return
		}
	}
	if p.Height > head.Height+1 {
		r.kickSync()
		return
	}
	if p.Height <= head.Height {
		return // old news
	}
	blk := m.block
	valid := blk.Hash() == p.BlockHash && blk.Header.Time == p.BlockTime && blk.Header.Height == p.Height
	var senders []chain.Address
	if valid {
		r.mu.Lock()
		held := r.blocks[p.BlockHash]
		r.mu.Unlock()
		if held != nil {
			valid = held.valid
		} else {
			senders, err = r.senders(blk.Txs)
			if err == nil {
				err = r.n.ledger.VerifyBlock(blk, senders)
			}
			if err != nil {
				r.log.Info("invalid proposed block", "height", p.Height, "round", p.Round, "proposer", p.Proposer.Hex(), "err", err)
				valid = false
			}
			r.mu.Lock()
			r.blocks[p.BlockHash] = &heldBlock{blk: blk, senders: senders, valid: valid}
			r.mu.Unlock()
		}
	}
	r.push(consensus.ProposalReceived{Now: now, Proposal: *p, POL: m.pol, BlockValid: valid})
}

// onTxs admits a batch of transactions gossiped by a peer.
func (r *replica) onTxs(from peer.ID, _ chain.Address, raw []byte) {
	txs, err := decodeTxs(raw)
	if err != nil {
		r.host.Penalize(from, err.Error())
		return
	}
	// Admission recovers each signature: spread a batch over the cores, since one reader
	// goroutine per peer would otherwise do it serially.
	var added atomic.Int64
	workers := min(runtime.GOMAXPROCS(0), (len(txs)+63)/64)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(txs); i += workers {
				if err := r.n.admitPeer(txs[i]); err == nil {
					added.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if added.Load() > 0 {
		r.n.nudge()
	}
}

// gossipTx queues a transaction admitted here for the next batch to peers.
func (r *replica) gossipTx(tx *chain.Tx) {
	r.gossipMu.Lock()
	r.gossip = append(r.gossip, tx.Encode())
	r.gossipMu.Unlock()
}

// Re-gossip: best-effort delivery loses a transaction sent while no peer was connected, so
// every regossipEvery the ready transactions of the mempool (at most regossipMax of them) go
// out again; peers drop the ones they hold by hash, before any signature work.
const (
	regossipEvery = 2 * time.Second
	regossipMax   = 2000
)

// gossipLoop sends the queued transactions to every peer in batches.
func (r *replica) gossipLoop(ctx context.Context) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	lastRegossip := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r.gossipMu.Lock()
		batch := r.gossip
		r.gossip = nil
		r.gossipMu.Unlock()
		if time.Since(lastRegossip) >= regossipEvery {
			lastRegossip = time.Now()
			if txs, _, err := r.n.pool.Ready(regossipMax, 4<<20, r.n.nonceOf); err == nil {
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
			r.host.Broadcast(ctx, p2p.TxsProtocol, encodeTxs(batch[:k]))
			batch = batch[k:]
		}
	}
}

func (r *replica) kickSync() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// syncLoop catches up from peers at start, when kicked (a message from a later height, a
// committed block this node lacks), and every few seconds without a commit.
func (r *replica) syncLoop(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	lastHeight := r.n.ledger.Head().Height
	for {
		var ids []peer.ID
		for _, p := range r.host.Peers() {
			ids = append(ids, p.ID)
		}
		if len(ids) > 0 {
			applied, err := r.sync.CatchUp(ctx, ids, 0)
			if applied > 0 {
				h := r.n.ledger.Head().Height
				r.log.Info("caught up from peers", "blocks", applied, "height", h)
				r.push(syncedEvent{height: h})
				r.n.nudge()
			}
			if err != nil && ctx.Err() == nil && !errors.Is(err, blocksync.ErrNoProgress) {
				r.log.Debug("sync", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
		case <-t.C:
			if h := r.n.ledger.Head().Height; h != lastHeight {
				lastHeight = h
				continue
			}
		}
	}
}

// P2PAddrs are the node's libp2p addresses with its peer id (nil on a single-validator
// network).
func (n *Node) P2PAddrs() []ma.Multiaddr {
	if n.replica == nil {
		return nil
	}
	return n.replica.host.Addrs()
}

// AddPeer tells the node where a validator or observer listens ("/ip4/…/tcp/…/p2p/ID").
func (n *Node) AddPeer(addr ma.Multiaddr) error {
	if n.replica == nil {
		return errors.New("node: a single-validator network has no peers")
	}
	info, err := peer.AddrInfoFromP2pAddr(addr)
	if err != nil {
		return err
	}
	return n.replica.host.AddAddrs(info.ID, info.Addrs)
}

// BlockPeer cuts the node off from another validator or observer until UnblockPeer (an
// operator's emergency brake; tests use it to partition a network).
func (n *Node) BlockPeer(a chain.Address) error {
	id, err := n.knownPeer(a)
	if err == nil {
		n.replica.host.Block(id)
	}
	return err
}

// UnblockPeer undoes BlockPeer.
func (n *Node) UnblockPeer(a chain.Address) error {
	id, err := n.knownPeer(a)
	if err == nil {
		n.replica.host.Unblock(id)
	}
	return err
}

// knownPeer is the peer id of an allowed validator or observer.
func (n *Node) knownPeer(a chain.Address) (peer.ID, error) {
	if n.replica == nil {
		return "", errors.New("node: a single-validator network has no peers")
	}
	id, ok := n.replica.host.PeerIDFor(a)
	if !ok {
		return "", fmt.Errorf("node: %s is not a known peer", a.Hex())
	}
	return id, nil
}

// senders returns the senders of a proposed block's transactions: from the mempool, which
// recovered them on admission, and by recovery (in parallel) for those it does not hold.
func (r *replica) senders(txs []*chain.Tx) ([]chain.Address, error) {
	out := make([]chain.Address, len(txs))
	var missing []int
	for i, tx := range txs {
		if _, s, ok := r.n.pool.Get(tx.Hash()); ok {
			out[i] = s
		} else {
			missing = append(missing, i)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	rest := make([]*chain.Tx, len(missing))
	for j, i := range missing {
		rest[j] = txs[i]
	}
	got, err := r.n.ledger.RecoverSenders(rest)
	if err != nil {
		return nil, err
	}
	for j, i := range missing {
		out[i] = got[j]
	}
	return out, nil
}

// ConsensusStatus is where the node's consensus engine stands: height, round, step and
// locks (the zero Status on a single-validator network).
func (n *Node) ConsensusStatus() consensus.Status {
	if n.replica != nil {
		if st := n.replica.status.Load(); st != nil {
			return *st
		}
	}
	return consensus.Status{}
}

package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
	"github.com/loyal-ledger/loyal/node/consensus"
	"github.com/loyal-ledger/loyal/node/internal/blocksync"
	"github.com/loyal-ledger/loyal/node/internal/mempool"
)

// maxClockLead is how far a block's time may run ahead of the node's clock. Block times are
// whole seconds and must increase from block to block, so a node committing several blocks a
// second borrows from the next seconds — a customer sending transactions one after another
// sees each committed at once — and beyond this lead it waits for the clock instead, because
// points expire by block time and block time must stay close to real time. (Under load this
// costs nothing: a block carries every transaction pending.)
const maxClockLead = 5 * time.Second

// driver is the one path from "transactions are pending" to "block committed", whatever the
// number of validators: it owns the consensus engine (a network of one validator runs it too,
// committing 1-of-1) and is the only writer of the ledger. One goroutine (run) does all of it.
// Its inputs arrive as typed events on channels — peers' proposals and votes, timeouts, blocks
// fetched by block sync, a nudge that transactions are pending — and the results of the
// engine's own actions (a block built, a height to start) are queued and stepped in turn: the
// engine is never re-entered from inside the handling of its actions.
type driver struct {
	ledger   *ledger.Ledger
	pool     *mempool.Mempool
	eng      *consensus.Engine
	out      Transport
	signed   *signedStateFile // nil for a network's only validator (see Node.OpenWith)
	evidence *evidenceLog
	commits  commitListener
	sets     *validatorWatch // follows the validator set after each commit
	// needPeers asks the node for a p2p side (a lone validator's chain now lists another
	// node); it arrives on attachments.
	needPeers   func()
	attachments chan attachment
	sync        func() // asks block sync to look for peers ahead of this node
	metrics     *Metrics
	log         *slog.Logger
	now         func() time.Time
	self        chain.Address
	limits      BlocksConfig

	votes     chan consensus.VoteReceived // peers' votes
	timeouts  chan consensus.TimeoutFired // fired timers: never dropped (see handle)
	proposals chan proposalIn             // peers' proposals, their signatures verified
	fetched   chan applyRequest           // blocks fetched by block sync
	wake      chan struct{}               // transactions are pending; buffered, never blocks a sender
	timers    timerSet

	// Owned by the run goroutine.
	queue        []consensus.Event                // results of actions, stepped before any new input
	held         heldBlocks                       // blocks of the height being decided
	far          map[chain.Address]proposalIn     // per proposer, its latest proposal of a round not yet in the engine's window
	waiting      bool                             // the next height has not started
	early        bool                             // a peer's message of the next height arrived
	earlyMsgs    []earlyMsg                       // those messages, stepped once it starts
	lastCommitAt time.Time                        // wall time of the last commit, for the heartbeat
	status       atomic.Pointer[consensus.Status] // the engine's, after its last step (read by other goroutines)
}

// commitListener is told of every block the driver commits, in height order, with its
// transactions' senders and how long building (or fetching) and committing took; and of the
// transactions a block this node built left out because they failed (after the mempool
// dropped them).
type commitListener interface {
	committed(blk *chain.Block, senders []chain.Address, took time.Duration) error
	rejected(rejected []error)
}

// proposalIn is a peer's proposal whose sender is the round's proposer and whose signatures
// (the proposal's, its POL votes') are verified; its block is checked by the driver.
type proposalIn struct {
	proposal consensus.Proposal
	pol      []consensus.Vote
	block    *chain.Block
}

// earlyMsg is a peer's message of the next height, held until that height starts: a vote or
// a proposal.
type earlyMsg struct {
	vote     *consensus.VoteReceived
	proposal *proposalIn
}

// applyRequest carries blocks block sync fetched to the driver; it answers on reply.
type applyRequest struct {
	blocks []blocksync.Fetched
	reply  chan applyResult // buffered: the driver never waits on it
}

type applyResult struct {
	applied int
	err     error
}

// Bounds on what the driver keeps of the next height before it starts: votes are small and
// come one per validator, step and round; proposals carry blocks, so only a few are kept.
const (
	maxEarlyVotes     = 4096
	maxEarlyProposals = 4
)

// run drives the engine until ctx ends, or returns the error that makes going on unsafe (the
// store failed, or the ledger refused a block the validators committed).
//
// A height starts (NewHeight is stepped) only when there is something to do: a transaction
// pending, the heartbeat due, a proposal or vote of that height from a peer, or a message this
// validator signed there before a restart — so an idle network makes no empty blocks — and
// not while the chain's time would run more than maxClockLead ahead of this node's clock.
func (d *driver) run(ctx context.Context) error {
	defer d.timers.stop()
	d.waiting, d.lastCommitAt = true, d.now()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		for len(d.queue) > 0 {
			ev := d.queue[0]
			d.queue = d.queue[1:]
			if err := d.step(ev); err != nil {
				return err
			}
		}
		if err := d.releaseFar(); err != nil {
			return err
		}
		if d.waiting {
			wait, ok := d.startIn()
			if ok {
				if err := d.start(); err != nil {
					return err
				}
				continue
			}
			timer.Reset(wait)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-d.wake:
		case <-timer.C:
		case ev := <-d.votes:
			if err := d.onMessage(earlyMsg{vote: &ev}, ev); err != nil {
				return err
			}
		case ev := <-d.timeouts:
			if !d.waiting { // else it is of a height already committed
				if err := d.step(ev); err != nil {
					return err
				}
			}
		case p := <-d.proposals:
			if err := d.onMessage(earlyMsg{proposal: &p}, nil); err != nil {
				return err
			}
		case a := <-d.attachments:
			d.attach(a)
		case req := <-d.fetched:
			n, err := d.applyFetched(req.blocks)
			req.reply <- applyResult{applied: n, err: err}
			if errors.Is(err, errFatal) {
				return err
			}
		}
	}
}

// proposal hands the driver a peer's checked proposal; if the driver is that far behind, the
// proposal is dropped (a lost message: consensus tolerates it) rather than queue blocks
// without bound.
func (d *driver) proposal(p proposalIn) {
	select {
	case d.proposals <- p:
	default:
		d.log.Warn("consensus proposal queue full: dropping a proposal", "height", p.proposal.Height, "round", p.proposal.Round)
	}
}

// vote hands the driver a peer's verified vote, dropping it if the driver is that far behind
// (a lost message; consensus tolerates it).
func (d *driver) vote(v consensus.VoteReceived) {
	v.Now = d.now()
	select {
	case d.votes <- v:
	default:
		d.log.Warn("consensus vote queue full: dropping a vote", "height", v.Vote.Height, "validator", v.Vote.Validator.Hex())
	}
}

// Apply is block sync's way to the ledger (blocksync.Applier): the fetched blocks go to the
// driver, which commits them between two events, and Apply waits for its answer.
func (d *driver) Apply(ctx context.Context, blocks []blocksync.Fetched) (int, error) {
	req := applyRequest{blocks: blocks, reply: make(chan applyResult, 1)}
	select {
	case d.fetched <- req:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	select {
	case r := <-req.reply:
		return r.applied, r.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// nudge tells the driver transactions are pending, without blocking.
func (d *driver) nudge() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// startIn says whether the next height may start now, or how long to wait at most before
// asking again.
func (d *driver) startIn() (time.Duration, bool) {
	head := d.ledger.Head()
	now := d.now()
	if lead := time.Unix(int64(head.Time)+1, 0).Sub(now); lead > maxClockLead {
		return lead - maxClockLead, false
	}
	if d.early {
		return 0, true
	}
	// Transactions waiting for a missing nonce of their sender cannot go in a block: only
	// runnable ones are work.
	txs, _ := d.pool.Size()
	if queued, _ := d.pool.Queued(); txs > queued {
		return 0, true
	}
	hb := d.limits.Heartbeat.Duration
	if hb <= 0 {
		return time.Hour, false
	}
	if since := now.Sub(d.lastCommitAt); since < hb {
		return hb - since, false
	}
	return 0, true
}

// start steps NewHeight for the height after the head, then the messages of that height that
// came before it.
func (d *driver) start() error {
	d.waiting, d.early = false, false
	head := d.ledger.Head()
	d.held.reset(head.Height + 1)
	clear(d.far)
	// The sets of this height and the next are final: a change decided at the head takes
	// effect at head+2 (chain.ActivationDelay), and the header of the next block commits to it.
	err := d.step(consensus.NewHeight{
		Now: d.now(), Height: head.Height + 1, ParentHash: head.Hash, ParentTime: head.Time,
		Validators:     d.ledger.RulesAt(head.Height + 1).ValidatorAddresses(),
		NextValidators: d.ledger.RulesAt(head.Height + 2).ValidatorAddresses(),
	})
	if err != nil {
		return err
	}
	early := d.earlyMsgs
	d.earlyMsgs = nil
	for _, m := range early {
		if m.vote != nil {
			err = d.onMessage(m, *m.vote)
		} else {
			err = d.onMessage(m, nil)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// onMessage steps a peer's vote (ev) or proposal (m.proposal), holding back messages of the
// next height until it starts and dropping those of heights already committed.
func (d *driver) onMessage(m earlyMsg, ev consensus.Event) error {
	next := d.ledger.Head().Height + 1
	var height uint64
	if m.proposal != nil {
		height = m.proposal.proposal.Height
	} else {
		height = m.vote.Vote.Height
	}
	switch {
	case height < next:
		return nil
	case m.vote != nil && height == next+1 && !d.waiting:
		return d.step(ev) // the engine keeps votes of the next height: they may decide it at once
	case height > next:
		d.sync() // peers are ahead: fetch what they committed
		return nil
	case d.waiting:
		d.holdEarly(m)
		return nil
	case m.proposal != nil:
		if st := d.eng.Status(); m.proposal.proposal.Round > st.Round+1 {
			// Not checked before its round comes within the engine's window (see releaseFar):
			// a proposer could otherwise have a block checked and held for every round it
			// is due in, up to the last.
			if d.far == nil {
				d.far = map[chain.Address]proposalIn{}
			}
			p := *m.proposal
			if old, ok := d.far[p.proposal.Proposer]; !ok || old.proposal.Round < p.proposal.Round {
				d.far[p.proposal.Proposer] = p
			}
			return nil
		}
		return d.step(d.checkProposal(*m.proposal))
	}
	return d.step(ev)
}

// releaseFar steps the far proposals whose round the engine has reached (or is one before),
// and lets go of held blocks of rounds two or more behind the engine's, except its locked and
// valid blocks: it may re-propose those.
func (d *driver) releaseFar() error {
	if d.waiting {
		return nil
	}
	st := d.eng.Status()
	d.held.prune(st.Round, st.Locked.Hash, st.Valid.Hash)
	if len(d.far) == 0 {
		return nil
	}
	var due []proposalIn
	for a, p := range d.far {
		if p.proposal.Round <= st.Round+1 {
			due = append(due, p)
			delete(d.far, a)
		}
	}
	slices.SortFunc(due, func(a, b proposalIn) int { return cmp.Compare(a.proposal.Round, b.proposal.Round) })
	for _, p := range due {
		if err := d.step(d.checkProposal(p)); err != nil {
			return err
		}
	}
	return nil
}

// holdEarly keeps a peer's message of the next height until it starts, and asks for the start.
func (d *driver) holdEarly(m earlyMsg) {
	d.early = true
	if m.proposal != nil {
		n := 0
		for _, e := range d.earlyMsgs {
			if e.proposal != nil {
				if e.proposal.proposal.Round == m.proposal.proposal.Round {
					return // one per round: its proposer signs one (a second is evidence, sent again later)
				}
				n++
			}
		}
		if n >= maxEarlyProposals {
			return
		}
	} else if len(d.earlyMsgs) >= maxEarlyVotes {
		return
	}
	d.earlyMsgs = append(d.earlyMsgs, m)
}

// step steps one event and carries out the actions it returns.
func (d *driver) step(ev consensus.Event) error {
	acts, err := d.eng.Step(ev)
	if err != nil && !errors.Is(err, consensus.ErrOldHeight) {
		if nh, ok := ev.(consensus.NewHeight); ok {
			// The engine cannot take this height (a signed state from a later one, after a
			// rollback): going on would leave the node silently unable to vote.
			return fmt.Errorf("node: consensus at height %d: %w", nh.Height, err)
		}
		d.log.Debug("engine refused an event", "event", fmt.Sprintf("%T", ev), "err", err)
	}
	st := d.eng.Status()
	d.status.Store(&st)
	d.metrics.Round.Set(float64(st.Round))
	return d.handle(acts)
}

// handle carries out the engine's actions in order, each one's durable part before the next.
// What this validator signs is written (fsynced) before it leaves; consecutive Persists are
// written once, before the first message they cover is sent, since each supersedes the last:
// a validator deciding alone (proposal, prevote, precommit in one step) syncs once per block.
func (d *driver) handle(acts []consensus.Action) error {
	var (
		unsaved *consensus.SignedState
		sends   []consensus.Broadcast
	)
	flush := func() error {
		if unsaved != nil && d.signed != nil {
			if err := d.signed.save(unsaved); err != nil {
				return fmt.Errorf("node: persist signed state: %w", err)
			}
			unsaved = nil
		}
		for _, b := range sends {
			d.broadcast(b)
		}
		sends = sends[:0]
		return nil
	}
	for _, a := range acts {
		switch a := a.(type) {
		case consensus.Persist:
			unsaved = a.State
		case consensus.Broadcast:
			sends = append(sends, a)
		case consensus.ScheduleTimeout:
			// A timeout is never dropped, or its round could stall: the timer's goroutine
			// waits for the loop (or for the driver to stop).
			d.timers.after(a.After, func(stopped <-chan struct{}) {
				select {
				case d.timeouts <- consensus.TimeoutFired{Now: d.now(), Height: a.Height, Round: a.Round, Step: a.Step}:
				case <-stopped:
				}
			})
		case consensus.BuildBlock:
			if err := d.build(a); err != nil {
				return err
			}
		case consensus.Commit:
			if err := flush(); err != nil { // our precommit goes out before we apply
				return err
			}
			if err := d.commit(a); err != nil {
				return err
			}
		case consensus.Evidence:
			d.evidence.addVotes(a.A, a.B)
		case consensus.ProposalEvidence:
			d.evidence.addProposals(a.A, a.B)
		}
	}
	return flush()
}

func (d *driver) broadcast(b consensus.Broadcast) {
	if b.Vote != nil {
		d.out.Broadcast(Message{Vote: b.Vote})
		return
	}
	held := d.held.byHash(b.Proposal.BlockHash)
	if held == nil || held.blk == nil {
		d.log.Warn("no block body for our proposal", "hash", b.Proposal.BlockHash)
		return
	}
	d.out.Broadcast(Message{Proposal: b.Proposal, POL: b.POL, Block: held.blk})
}

// build makes this validator's proposal block from the mempool and queues BlockBuilt.
func (d *driver) build(a consensus.BuildBlock) error {
	start := d.now()
	var last *chain.Commit
	if a.Height > 1 {
		var err error
		if last, err = d.ledger.SeenCommit(a.Height - 1); err != nil {
			return fmt.Errorf("node: certificate of block %d: %w", a.Height-1, err)
		}
	}
	maxTxs, maxBytes := d.ledger.BlockRoom(last)
	if c := d.limits.MaxTxs; c > 0 {
		maxTxs = min(maxTxs, c)
	}
	if c := d.limits.MaxBytes; c > 0 {
		maxBytes = min(maxBytes, c)
	}
	txs, senders, err := d.pool.Ready(maxTxs, maxBytes, d.ledger.CommittedNonce)
	if err != nil {
		return fmt.Errorf("node: mempool: %w", err)
	}
	t := max(uint64(start.Unix()), a.ParentTime+1)
	blk, rejected, err := d.ledger.BuildBlock(t, d.self, txs, senders, last)
	if err != nil {
		return fmt.Errorf("node: build block %d: %w", a.Height, err)
	}
	d.dropRejected(rejected)
	if len(blk.Txs) != len(txs) { // rejected ones left out
		senders = keptSenders(txs, senders, blk.Txs)
	}
	h := blk.Hash()
	d.held.put(a.Round, h, &heldBlock{blk: blk, senders: senders, valid: true, started: start})
	d.queue = append(d.queue, consensus.BlockBuilt{Now: d.now(), Height: a.Height, Round: a.Round, BlockHash: h, BlockTime: blk.Header.Time})
	return nil
}

// dropRejected removes transactions that no longer apply (their sender spent the points
// meanwhile, the order ref was taken, …) from the mempool.
func (d *driver) dropRejected(rejected []error) {
	hashes := make([]chain.Hash, 0, len(rejected))
	for _, e := range rejected {
		var r *ledger.RejectedTx
		if !errors.As(e, &r) {
			continue
		}
		hashes = append(hashes, r.Tx.Hash())
		d.metrics.Rejected.WithLabelValues(chain.Code(r.Err)).Inc()
		d.log.Debug("dropped transaction", "tx", r.Tx.Hash(), "code", chain.Code(r.Err), "err", r.Err)
	}
	d.pool.Remove(hashes)
	if len(rejected) > 0 {
		d.commits.rejected(rejected)
	}
}

// keptSenders returns the senders of the transactions that made it into the block.
func keptSenders(txs []*chain.Tx, senders []chain.Address, kept []*chain.Tx) []chain.Address {
	out := make([]chain.Address, 0, len(kept))
	j := 0
	for i, tx := range txs {
		if j < len(kept) && kept[j] == tx {
			out = append(out, senders[i])
			j++
		}
	}
	return out
}

// commit applies a decided block, or asks block sync for it if this node never got it (the
// blocks it fetches come back through applyFetched), and waits for the next height's work.
func (d *driver) commit(a consensus.Commit) error {
	if d.ledger.Head().Height >= a.Height {
		return d.committedHeight()
	}
	held := d.held.byHash(a.BlockHash)
	if held == nil || held.blk == nil {
		d.log.Info("committed block not held: fetching it", "height", a.Height)
		d.sync()
		return nil
	}
	start := held.started
	if start.IsZero() {
		start = d.now()
	}
	if err := d.ledger.ApplyBlockWithSenders(held.blk, held.senders, a.Certificate); err != nil {
		return fmt.Errorf("node: apply committed block %d: %w", a.Height, err)
	}
	if err := d.commits.committed(held.blk, held.senders, d.now().Sub(start)); err != nil {
		return err
	}
	d.follow(a.Height)
	return d.committedHeight()
}

// committedHeight ends the height: the next one starts when there is work.
func (d *driver) committedHeight() error {
	d.waiting, d.lastCommitAt = true, d.now()
	return nil
}

// applyFetched commits blocks block sync fetched, in order, skipping those already
// committed. It stops at the first that fails; a failure of the bookkeeping after a commit
// is fatal (errFatal).
func (d *driver) applyFetched(blocks []blocksync.Fetched) (int, error) {
	for i, f := range blocks {
		h := f.Block.Header.Height
		head := d.ledger.Head().Height
		if h <= head {
			continue
		}
		if h != head+1 {
			return i, fmt.Errorf("block %d does not follow the head %d", h, head)
		}
		start := d.now()
		if err := d.ledger.ApplyBlockWithSenders(f.Block, f.Senders, f.Commit); err != nil {
			if d.ledger.Head().Height >= h {
				// Committed, and then the ledger failed (reading the validator changes it
				// decided): not the peer's fault, and the node cannot go on.
				return i, fmt.Errorf("%w: %w", errFatal, err)
			}
			return i, err // the block's fault (or the peer's); our own blocks find a failing store
		}
		if err := d.commits.committed(f.Block, f.Senders, d.now().Sub(start)); err != nil {
			return i, fmt.Errorf("%w: %w", errFatal, err)
		}
		d.follow(h)
		// The engine's height is over: it starts the next one when there is work.
		d.waiting, d.lastCommitAt = true, d.now()
	}
	return len(blocks), nil
}

// errFatal marks an error after which the node must stop: its store failed, or the ledger
// refused a block the validators decided.
var errFatal = errors.New("node: fatal")

// attachment is a p2p side the node hands the driver: where consensus messages go, how to
// ask block sync, the signed-state file its votes need once other validators can see them,
// and the allow-list to keep in step with the validator set.
type attachment struct {
	out    Transport
	sync   func()
	signed *signedStateFile
	hosts  allowList
}

// attach takes a p2p side: from now on what the engine signs leaves this node, so every
// signed state the engine emits from its next step is persisted before it is sent (the lone
// validator kept none: what it signed before never left the process but inside blocks it
// committed).
func (d *driver) attach(a attachment) {
	d.out, d.sync, d.signed, d.sets.hosts = a.out, a.sync, a.signed, a.hosts
	d.follow(d.ledger.Head().Height)
}

// follow keeps the allow-list and the node's role in step with the validator set after the
// block at head, and asks for a p2p side when a lone validator's chain lists another node.
func (d *driver) follow(head uint64) {
	d.sets.follow(d.ledger, head)
	if d.sets.hosts == nil && d.needPeers != nil && d.sets.needsPeers(d.ledger, head) {
		d.needPeers()
	}
}

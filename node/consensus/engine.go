package consensus

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/loyal-ledger/loyal/chain"
)

// Engine is the consensus state machine of one node. It is not safe for concurrent use: one
// goroutine owns it and calls Step. It has no goroutines, clock, randomness or I/O, so the
// same events always produce the same actions.
type Engine struct {
	cfg Config
	// set is the validator set at height (Config.Validators before the first NewHeight), and
	// nextSet the set at height + 1, whose members' early votes next buffers.
	set, nextSet valSet
	self         int // Self's index in set, -1 for an observer
	f            int // faults tolerated: (n-1)/3
	quorum       int // more than two thirds

	restore *SignedState // resumed from at the first NewHeight of its height
	started bool

	height     uint64
	parentHash chain.Hash
	parentTime uint64
	round      uint32
	step       Step
	locked     BlockRef
	valid      BlockRef
	validPOL   []Vote // the prevotes that made valid valid

	rounds map[uint32]*roundState // rounds up to round + 1
	blocks map[chain.Hash]blockInfo
	seen   []int64 // highest round of any message per validator, -1 none
	far    []farSlot
	next   []nextSlot // votes for height + 1, by index in nextSet
	// seenHigh is set when a validator's seen round went above round, so round skipping
	// must be looked at again.
	seenHigh bool

	// What Self signed at this height (the latest of each).
	signedProposal  *Proposal
	signedPrevote   *Vote
	signedPrecommit *Vote

	// "For the first time" flags of the current round.
	precommitTimeoutSet bool
	polSeen             bool

	out []Action
	err error
}

// blockInfo is what the engine knows of a block at this height.
type blockInfo struct {
	time  uint64
	valid bool
}

// Status is a snapshot of the engine's position, for metrics and tests.
type Status struct {
	Height uint64
	Round  uint32
	Step   Step // 0 before the first NewHeight
	Locked BlockRef
	Valid  BlockRef
	// Observer says that Self is not in the validator set of Height (before the first
	// NewHeight: of Config.Validators), so the engine signs nothing there.
	Observer bool
}

// New returns an engine for cfg. persisted is the last SignedState the node persisted (nil
// on first start or for an observer); the engine resumes from it when the node steps the
// NewHeight of its height, re-sending what it had signed there instead of signing anything
// new. Nothing happens until that first NewHeight.
//
// New checks persisted against cfg.Validators, which must therefore be the set at the
// height after the node's ledger; a state of an earlier height is of no use to the engine
// (it resumes only at the state's own height), and the node should pass nil instead, since
// after a validator-set change it may not match cfg.Validators. The first NewHeight checks a
// state of its height again, against the set it names.
func New(cfg Config, persisted *SignedState) (*Engine, error) {
	cfg = cfg.withDefaults()
	cfg.Validators = slices.Clone(cfg.Validators)
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	set, err := newValSet(cfg.Validators)
	if err != nil { // validate checked it
		return nil, fmt.Errorf("%w: %v", ErrBadConfig, err)
	}
	n := len(set.addrs)
	e := &Engine{
		cfg:     cfg,
		set:     set,
		nextSet: set,
		self:    set.indexOf(cfg.Self),
		f:       (n - 1) / 3,
		quorum:  chain.Quorum(n),
		locked:  noBlock,
		valid:   noBlock,
	}
	if persisted != nil {
		if e.self < 0 {
			return nil, fmt.Errorf("%w: an observer has no signed state", ErrBadState)
		}
		if err := persisted.check(); err != nil {
			return nil, err
		}
		if err := persisted.verify(cfg.ChainID, cfg.Self); err != nil {
			return nil, err
		}
		if err := persisted.checkSet(set, e.self); err != nil {
			return nil, err
		}
		e.restore = persisted.clone()
	}
	return e, nil
}

// Status returns the engine's position.
func (e *Engine) Status() Status {
	return Status{Height: e.height, Round: e.round, Step: e.step, Locked: e.locked, Valid: e.valid, Observer: e.self < 0}
}

// Step applies one event and returns the actions it causes, in the order the node must handle
// them (see Action). An event that is invalid in itself (a vote of this height or the next
// from a non-validator of that height, a proposal of this height or the next from another
// than its round's proposer, an event before the first NewHeight, a NewHeight with a bad
// validator set) is rejected with an error and no actions; stale, duplicate and
// out-of-window messages, and messages of other heights, are ignored without one.
// A Signer failure is returned together with the actions, which must still be handled. Step
// keeps no reference to the event: the caller may reuse it.
func (e *Engine) Step(ev Event) ([]Action, error) {
	e.out, e.err = nil, nil
	var err error
	switch ev := ev.(type) {
	case NewHeight:
		err = e.onNewHeight(ev)
	case ProposalReceived:
		err = e.onProposal(ev)
	case VoteReceived:
		err = e.onVote(ev)
	case TimeoutFired:
		err = e.onTimeout(ev)
	case BlockBuilt:
		err = e.onBlockBuilt(ev)
	default:
		err = fmt.Errorf("consensus: unknown event %T", ev)
	}
	if err == nil {
		err = e.err
	}
	out := e.out
	e.out, e.err = nil, nil
	return out, err
}

func (e *Engine) fail(err error) {
	if e.err == nil {
		e.err = err
	}
}

func (e *Engine) onNewHeight(ev NewHeight) error {
	if ev.Height == 0 || (e.started && ev.Height <= e.height) {
		return fmt.Errorf("%w: %d after %d", ErrOldHeight, ev.Height, e.height)
	}
	// Everything is checked before anything changes: a rejected NewHeight leaves the engine
	// as it was.
	set, nextSet, err := e.setsOf(ev)
	if err != nil {
		return err
	}
	self := set.indexOf(e.cfg.Self)
	if self >= 0 && e.cfg.Signer == nil {
		return fmt.Errorf("%w: Self %s is a validator at height %d but there is no Signer", ErrBadConfig, e.cfg.Self, ev.Height)
	}
	r := e.restore
	if r != nil && r.Height > ev.Height {
		return fmt.Errorf("%w: signed at height %d, ledger at %d", ErrStateAhead, r.Height, ev.Height-1)
	}
	if r != nil && r.Height == ev.Height {
		if err := r.checkSet(set, self); err != nil { // New checked it against Config.Validators
			return err
		}
	}
	// The next height's votes buffered by index in the set announced for it; they are
	// replayed below by index in the set this height actually has.
	var buffered []nextSlot
	var bufferedSet valSet
	if e.started && ev.Height == e.height+1 {
		buffered, bufferedSet = e.next, e.nextSet
	}
	n := len(set.addrs)
	*e = Engine{
		cfg: e.cfg, set: set, nextSet: nextSet, self: self, f: (n - 1) / 3, quorum: chain.Quorum(n), out: e.out, err: e.err,
		started: true, height: ev.Height, parentHash: ev.ParentHash, parentTime: ev.ParentTime,
		locked: noBlock, valid: noBlock,
		rounds: make(map[uint32]*roundState), blocks: make(map[chain.Hash]blockInfo),
		seen: make([]int64, n), far: make([]farSlot, n), next: make([]nextSlot, len(nextSet.addrs)),
	}
	for i := range e.seen {
		e.seen[i] = -1
	}
	if r != nil && r.Height == ev.Height {
		e.round = r.Round
		e.locked, e.valid, e.validPOL = r.Locked, r.Valid, slices.Clone(r.ValidPOL)
		e.signedProposal, e.signedPrevote, e.signedPrecommit = r.Proposal, r.Prevote, r.Precommit
		for _, b := range []BlockRef{r.Locked, r.Valid} {
			if !b.IsNone() {
				e.blocks[b.Hash] = blockInfo{time: b.Time, valid: true}
			}
		}
	}
	for _, v := range e.validPOL { // the restored POL, so this node can check re-proposals of it
		e.addVote(e.set.index[v.Validator], &v)
	}
	if buffered != nil {
		for i, a := range e.set.addrs { // in this height's order; votes of non-members are dropped
			j, ok := bufferedSet.index[a]
			if !ok {
				continue
			}
			for _, v := range []*Vote{buffered[j].prevote, buffered[j].precommit} {
				if v != nil && !e.committed() {
					e.addVote(i, v)
				}
			}
		}
	}
	if !e.committed() { // the buffered votes may decide the height at once
		e.startRound(e.round)
		e.checkRules()
	}
	return nil
}

// setsOf returns the validator sets at ev.Height and ev.Height+1 (see NewHeight), reusing
// the engine's when they are the same.
func (e *Engine) setsOf(ev NewHeight) (set, nextSet valSet, err error) {
	// follows: ev.Height is the height after the current one, whose set nextSet is.
	follows := e.started && ev.Height == e.height+1
	switch {
	case ev.Validators == nil && follows:
		set = e.nextSet
	case ev.Validators == nil:
		set = e.set
	case slices.Equal(ev.Validators, e.set.addrs):
		set = e.set
	case slices.Equal(ev.Validators, e.nextSet.addrs):
		set = e.nextSet
	default:
		if set, err = newValSet(slices.Clone(ev.Validators)); err != nil {
			return valSet{}, valSet{}, fmt.Errorf("%w: NewHeight %d: Validators: %v", ErrBadConfig, ev.Height, err)
		}
	}
	switch {
	case ev.NextValidators == nil || slices.Equal(ev.NextValidators, set.addrs):
		nextSet = set
	case slices.Equal(ev.NextValidators, e.nextSet.addrs):
		nextSet = e.nextSet
	default:
		if nextSet, err = newValSet(slices.Clone(ev.NextValidators)); err != nil {
			return valSet{}, valSet{}, fmt.Errorf("%w: NewHeight %d: NextValidators: %v", ErrBadConfig, ev.Height, err)
		}
	}
	return set, nextSet, nil
}

func (e *Engine) onProposal(ev ProposalReceived) error {
	p := ev.Proposal
	if err := p.check(); err != nil {
		return err
	}
	if !e.started {
		return ErrNotStarted
	}
	// The proposer is judged under the set of the proposal's height, which the engine knows
	// for this height and the next; proposals of other heights are ignored.
	var set valSet
	switch p.Height {
	case e.height:
		set = e.set
	case e.height + 1:
		set = e.nextSet
	default:
		return nil
	}
	if want := set.proposer(p.Height, p.Round); p.Proposer != want {
		return fmt.Errorf("%w: %s proposed %d/%d, proposer is %s", ErrWrongProposer, p.Proposer, p.Height, p.Round, want)
	}
	if p.Height != e.height || e.committed() {
		return nil
	}
	rec := &proposalRec{p: &p, valid: ev.BlockValid, timely: p.BlockTime > e.parentTime && e.withinDrift(ev, p.BlockTime)}
	if p.POLRound >= 0 {
		for i := range ev.POL {
			v := ev.POL[i]
			idx, ok := e.set.index[v.Validator]
			if !ok || v.Type != chain.Prevote || v.Height != p.Height || v.Round != uint32(p.POLRound) || v.BlockHash != p.BlockHash {
				continue // not part of the justification
			}
			if rec.polFrom == nil {
				rec.polFrom = make([]bool, len(e.set.addrs))
			}
			if !rec.polFrom[idx] {
				rec.polFrom[idx] = true
				e.addVote(idx, &v)
			}
		}
	}
	e.storeProposal(rec)
	e.checkRules()
	return nil
}

// withinDrift reports whether blockTime (Unix seconds) is within MaxDrift of ev.Now.
func (e *Engine) withinDrift(ev ProposalReceived, blockTime uint64) bool {
	if blockTime > math.MaxInt64 {
		return false
	}
	d := time.Unix(int64(blockTime), 0).Sub(ev.Now) // saturates, never overflows
	return d <= e.cfg.MaxDrift && d >= -e.cfg.MaxDrift
}

func (e *Engine) onVote(ev VoteReceived) error {
	v := ev.Vote
	if err := v.check(); err != nil {
		return err
	}
	if !e.started {
		return ErrNotStarted
	}
	// The voter is judged under the set of the vote's height, which the engine knows for this
	// height and the next; votes of other heights are ignored.
	switch v.Height {
	case e.height:
		idx, ok := e.set.index[v.Validator]
		if !ok {
			return fmt.Errorf("%w: vote by %s at height %d", ErrNotValidator, v.Validator, v.Height)
		}
		if e.committed() {
			return nil
		}
		e.addVote(idx, &v)
		e.checkRules()
	case e.height + 1:
		idx, ok := e.nextSet.index[v.Validator]
		if !ok {
			return fmt.Errorf("%w: vote by %s at height %d", ErrNotValidator, v.Validator, v.Height)
		}
		e.bufferNext(idx, &v)
	}
	return nil
}

func (e *Engine) onTimeout(ev TimeoutFired) error {
	if !e.started {
		return ErrNotStarted
	}
	if ev.Height != e.height || ev.Round != e.round || e.committed() {
		return nil
	}
	switch ev.Step {
	case StepPropose: // OnTimeoutPropose
		if e.step == StepPropose {
			e.prevote(chain.Hash{})
		}
	case StepPrevote: // OnTimeoutPrevote
		if e.step == StepPrevote {
			e.precommit(chain.Hash{})
		}
	case StepPrecommit: // OnTimeoutPrecommit
		if e.round < MaxRound {
			e.startRound(e.round + 1)
		}
	default:
		return fmt.Errorf("consensus: timeout of step %v", ev.Step)
	}
	e.checkRules()
	return nil
}

func (e *Engine) onBlockBuilt(ev BlockBuilt) error {
	if !e.started {
		return ErrNotStarted
	}
	if ev.BlockHash == (chain.Hash{}) {
		return fmt.Errorf("%w: built block has the zero hash", ErrMalformed)
	}
	if ev.Height != e.height || ev.Round != e.round || e.committed() || e.self < 0 ||
		e.set.proposer(e.height, e.round) != e.cfg.Self ||
		(e.signedProposal != nil && e.signedProposal.Round >= e.round) {
		return nil
	}
	// Our own block: the node built it with its clock, so only the parent rule is checked.
	e.propose(ev.BlockHash, ev.BlockTime, -1, ev.BlockTime > e.parentTime)
	e.checkRules()
	return nil
}

func (e *Engine) committed() bool { return e.step == StepCommit }

func (e *Engine) roundState(r uint32) *roundState {
	rs, ok := e.rounds[r]
	if !ok {
		rs = newRoundState(len(e.set.addrs))
		e.rounds[r] = rs
	}
	return rs
}

// inWindow reports whether messages of round r are kept in full (up to round + 1).
func (e *Engine) inWindow(r uint32) bool { return uint64(r) <= uint64(e.round)+1 }

func (e *Engine) see(idx int, r uint32) {
	if int64(r) > e.seen[idx] {
		e.seen[idx] = int64(r)
		if r > e.round {
			e.seenHigh = true
		}
	}
}

// learnBlock records a block's time and validity; a valid record is never overwritten.
func (e *Engine) learnBlock(hash chain.Hash, time uint64, valid bool) {
	if b, ok := e.blocks[hash]; ok && b.valid {
		return
	}
	e.blocks[hash] = blockInfo{time: time, valid: valid}
}

// storeProposal records a proposal from the right proposer for this height, or reports it as
// equivocation if the proposer already proposed something else in its round.
func (e *Engine) storeProposal(rec *proposalRec) {
	p := rec.p
	idx := e.set.index[p.Proposer]
	e.see(idx, p.Round)
	var first **proposalRec
	var reported *bool
	if e.inWindow(p.Round) {
		rs := e.roundState(p.Round)
		first, reported = &rs.proposal, &rs.proposalReported
	} else if f := e.farSlot(idx, p.Round); f != nil {
		first, reported = &f.proposal, &f.proposalReported
	} else {
		return
	}
	if *first != nil {
		if (*first).p.conflicts(p) && !*reported {
			*reported = true
			e.out = append(e.out, ProposalEvidence{A: *(*first).p, B: *p})
		}
		return
	}
	*first = rec
	if e.inWindow(p.Round) {
		e.learnBlock(p.BlockHash, p.BlockTime, rec.valid)
	}
}

// addVote records a vote of this height from validator idx and commits on a precommit
// quorum for a block (in any round).
func (e *Engine) addVote(idx int, v *Vote) {
	e.see(idx, v.Round)
	if !e.inWindow(v.Round) {
		if f := e.farSlot(idx, v.Round); f != nil {
			slot := &f.prevote
			if v.Type == chain.Precommit {
				slot = &f.precommit
			}
			if *slot == nil {
				*slot = v
			} else if (*slot).BlockHash != v.BlockHash && f.reported&(1<<v.Type) == 0 {
				f.reported |= 1 << v.Type
				e.out = append(e.out, Evidence{A: **slot, B: *v})
			}
		}
		return
	}
	rs := e.roundState(v.Round)
	set := rs.set(v.Type)
	old, added := set.add(idx, v)
	if !added {
		if old.BlockHash != v.BlockHash && rs.reported[idx]&(1<<v.Type) == 0 {
			rs.reported[idx] |= 1 << v.Type
			e.out = append(e.out, Evidence{A: *old, B: *v})
		}
		return
	}
	if v.Type == chain.Precommit && !v.IsNil() && set.countFor(v.BlockHash) >= e.quorum {
		e.commit(v.Round, v.BlockHash)
	}
}

// farSlot returns validator idx's far slot for round r, emptied if r is above the round it
// holds, or nil if r is below it (the message is dropped).
func (e *Engine) farSlot(idx int, r uint32) *farSlot {
	f := &e.far[idx]
	switch {
	case f.empty() || r > f.round:
		*f = farSlot{round: r}
	case r < f.round:
		return nil
	}
	return f
}

// migrateFar moves far messages that are now within the window into their rounds.
func (e *Engine) migrateFar() {
	for i := range e.far {
		f := e.far[i]
		if f.empty() || !e.inWindow(f.round) {
			continue
		}
		e.far[i] = farSlot{}
		rs := e.roundState(f.round)
		rs.reported[i] |= f.reported
		rs.proposalReported = rs.proposalReported || f.proposalReported
		if f.proposal != nil {
			e.storeProposal(f.proposal)
		}
		for _, v := range []*Vote{f.prevote, f.precommit} {
			if v != nil && !e.committed() {
				e.addVote(i, v)
			}
		}
	}
}

// bufferNext keeps a validator's latest-round prevote and precommit for the next height; idx
// is its index in nextSet.
func (e *Engine) bufferNext(idx int, v *Vote) {
	s := &e.next[idx]
	slot := &s.prevote
	if v.Type == chain.Precommit {
		slot = &s.precommit
	}
	if *slot == nil || v.Round > (*slot).Round {
		*slot = v
	}
}

func (e *Engine) commit(round uint32, hash chain.Hash) {
	votes := e.rounds[round].precommits.forHash(hash)
	cert := &chain.Commit{Height: e.height, Round: round, BlockHash: hash, Sigs: make([]chain.CommitSig, len(votes))}
	for i, v := range votes {
		cert.Sigs[i] = chain.CommitSig{Validator: v.Validator, Sig: v.Sig}
	}
	e.step = StepCommit
	e.out = append(e.out, Commit{Height: e.height, BlockHash: hash, Certificate: cert})
}

func (e *Engine) schedule(step Step) {
	e.out = append(e.out, ScheduleTimeout{Height: e.height, Round: e.round, Step: step, After: e.cfg.Timeout(step, e.round)})
}

// persist emits the signed state; observers have none.
func (e *Engine) persist() {
	if e.self < 0 {
		return
	}
	s := &SignedState{Height: e.height, Round: e.round, Locked: e.locked, Valid: e.valid, ValidPOL: e.validPOL,
		Proposal: e.signedProposal, Prevote: e.signedPrevote, Precommit: e.signedPrecommit}
	e.out = append(e.out, Persist{State: s.clone()})
}

// broadcastProposal sends a proposal of Self's; a re-proposal of the valid block goes with
// the prevotes that made it valid.
func (e *Engine) broadcastProposal(p *Proposal) {
	c := *p
	b := Broadcast{Proposal: &c}
	if p.POLRound >= 0 && p.POLRound == e.valid.Round && p.BlockHash == e.valid.Hash {
		b.POL = slices.Clone(e.validPOL)
	}
	e.out = append(e.out, b)
}

func (e *Engine) broadcastVote(v *Vote) {
	c := *v
	e.out = append(e.out, Broadcast{Vote: &c})
}

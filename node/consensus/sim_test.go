package consensus

import (
	"container/heap"
	"flag"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/loyal-ledger/loyal/chain"
)

var (
	flagSeeds    = flag.Int("seeds", 2000, "simulation: number of seeds to run")
	flagSeedBase = flag.Int64("seedbase", 0, "simulation: first seed")
	flagSeed     = flag.Int64("seed", -1, "simulation: replay this one seed and print its trace tail (with -simtrace: all of it)")
	flagSimTrace = flag.Bool("simtrace", false, "simulation: print the whole trace of a replayed seed")
)

// TestSimulation runs the engines of a whole network over a simulated network and clock, one
// run per seed: n validators (1, 4 or 7) and sometimes an observer, a network that drops,
// delays, duplicates, reorders and partitions until it heals at a random time, validators that
// crash and restart from their persisted state (some in the middle of an action list, between
// a Persist and its Broadcast), and byzantine validators that equivocate (two proposals, two
// votes) or stay silent, with crashed plus byzantine at most f. In a third of the seeds the
// validator set changes: a schedule of sets per height (members added, removed, replaced by
// a fresh key, e.g. 1→2→1 or 4→5→4), which every node knows as it would know the chain's,
// steps into NewHeight (the sets at h and h+1); nodes of later sets run from the start, as
// observers until their set; faulty nodes are chosen within f of every set they are in. Each
// run asserts:
//
//   - safety: no two honest nodes commit different blocks at a height, and every certificate
//     (from a Commit or a block sync) passes chain.VerifyCommit against the set of its height;
//   - no honest validator ever signs two conflicting messages, across restarts, and it
//     broadcasts what it signed only after a Persist that holds it; no engine signs anything
//     at a height whose set does not hold it;
//   - evidence: an honest engine reports every equivocation it is shown (two different votes
//     or proposals of one signer for one height, round and type, within its window), and
//     never accuses an honest validator;
//   - liveness: after the network heals every honest node commits again within liveBound of
//     simulated time, and all reach the target height.
//
// A failing seed prints itself; -seed=N replays it exactly (same trace). -seeds=100000 runs
// more.
func TestSimulation(t *testing.T) {
	if *flagSeed >= 0 {
		s := newSim(*flagSeed, true)
		err := s.run()
		if *flagSimTrace {
			t.Log("\n" + strings.Join(s.trace, "\n"))
		}
		if err != nil {
			t.Fatalf("seed %d (%s): %v\ntrace tail:\n%s", *flagSeed, s.describe(), err, s.traceTail(300))
		}
		t.Logf("seed %d (%s): ok at %v, %d events", *flagSeed, s.describe(), s.now, s.events)
		return
	}
	seeds := *flagSeeds
	if testing.Short() {
		seeds = min(seeds, 200)
	}
	type result struct {
		seed int64
		err  error
		desc string
	}
	var (
		mu       sync.Mutex
		failures []result
		stats    = map[int]int{}
		total    simStats
		wg       sync.WaitGroup
		next     = make(chan int64)
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seed := range next {
				s := newSim(seed, false)
				err := s.run()
				mu.Lock()
				stats[s.n]++
				total.add(s.stats)
				if err != nil {
					failures = append(failures, result{seed, err, s.describe()})
				}
				mu.Unlock()
			}
		}()
	}
	for i := range seeds {
		next <- *flagSeedBase + int64(i)
	}
	close(next)
	wg.Wait()
	slices.SortFunc(failures, func(a, b result) int { return int(a.seed - b.seed) })
	for i, f := range failures {
		if i == 10 {
			t.Errorf("... and %d more failing seeds", len(failures)-10)
			break
		}
		t.Errorf("seed %d (%s): %v\n\treplay: go test ./node/consensus -run 'TestSimulation$' -seed=%d -v", f.seed, f.desc, f.err, f.seed)
	}
	t.Logf("%d seeds from %d: %d with n=1, %d with n=4, %d with n=7", seeds, *flagSeedBase, stats[1], stats[4], stats[7])
	t.Logf("validator-set changes in %d seeds (%d growing then shrinking back): honest commits at heights whose set differs from the one before %d, messages signed by validators that joined %d, commits by validators that left %d",
		total.setRuns, total.backAndForth, total.activationCommits, total.joinedSigned, total.leftCommits)
	t.Logf("honest commits %d (by sync %d), crashes %d (between persist and send %d), restarts from a persisted state %d, equivocations sent %d, evidence reported %d, equivocations shown and checked %d, highest round %d, longest heal-to-commit %v (bound %v)",
		total.commits, total.syncs, total.crashes, total.midListCrashes, total.restores, total.equivocations, total.evidence, total.evidenceChecks, total.maxRound, total.maxRecovery.Round(time.Millisecond), liveBound)
}

// TestSimulationDeterministic replays seeds and checks the traces are identical.
func TestSimulationDeterministic(t *testing.T) {
	for _, seed := range []int64{1, 2, 3, 17, 42} {
		a, b := newSim(seed, true), newSim(seed, true)
		errA, errB := a.run(), b.run()
		if fmt.Sprint(errA) != fmt.Sprint(errB) || !slices.Equal(a.trace, b.trace) {
			t.Fatalf("seed %d: two runs differ (%d and %d trace lines)", seed, len(a.trace), len(b.trace))
		}
		if len(a.trace) < 100 {
			t.Fatalf("seed %d: trace of %d lines is suspiciously short", seed, len(a.trace))
		}
	}
}

// Simulation constants. Times are simulated.
const (
	simBaseUnix = 1_700_000_000 // the genesis block's time
	liveBound   = 120 * time.Second
	commitDelay = time.Second // between a commit and the next NewHeight, as a node would wait
	maxFuture   = 8           // proposals of later heights a node keeps
)

// simStats counts what a run exercised.
type simStats struct {
	commits, syncs, crashes, midListCrashes, restores, equivocations    int
	evidence, evidenceChecks, maxRound                                  int
	setRuns, backAndForth, activationCommits, joinedSigned, leftCommits int
	// maxRecovery is the longest time from the heal to an honest node\'s next commit.
	maxRecovery time.Duration
}

func (a *simStats) add(b simStats) {
	a.commits += b.commits
	a.syncs += b.syncs
	a.crashes += b.crashes
	a.midListCrashes += b.midListCrashes
	a.restores += b.restores
	a.equivocations += b.equivocations
	a.evidence += b.evidence
	a.evidenceChecks += b.evidenceChecks
	a.maxRound = max(a.maxRound, b.maxRound)
	a.setRuns += b.setRuns
	a.backAndForth += b.backAndForth
	a.activationCommits += b.activationCommits
	a.joinedSigned += b.joinedSigned
	a.leftCommits += b.leftCommits
	a.maxRecovery = max(a.maxRecovery, b.maxRecovery)
}

type nodeKind uint8

const (
	honest      nodeKind = iota
	crashy               // honest, but crashes and restarts
	equivocator          // byzantine: signs conflicting proposals and votes
	silent               // byzantine: never sends anything
	observer             // honest non-validator
)

func (k nodeKind) String() string {
	return [...]string{"honest", "crashy", "equivocator", "silent", "observer"}[k]
}

func (k nodeKind) honest() bool { return k == honest || k == crashy || k == observer }

type partition struct {
	start, end time.Duration
	sideA      uint64 // bit i set: node i is on side A
}

type simBlock struct {
	height uint64
	parent chain.Hash
	time   uint64
	valid  bool
}

type statusMsg struct{ height uint64 }

// proposalMsg is a proposal as the node sends it, with its POL (and, in a real node, the
// block body, here looked up in the simulation's registry).
type proposalMsg struct {
	p   *Proposal
	pol []Vote
}

type syncMsg struct {
	height uint64
	hash   chain.Hash
	cert   *chain.Commit
}

type evKey struct {
	signer chain.Address
	height uint64
	round  uint32
	typ    chain.VoteType // 0 for a proposal
}

type simNode struct {
	idx   int
	kind  nodeKind
	cfg   Config
	key   int // index into testKeys
	eng   *Engine
	up    bool
	epoch int
	skew  time.Duration

	disk      []byte          // the last persisted SignedState, encoded
	persisted map[string]bool // every own message ever persisted
	ledger    []chain.Hash    // committed blocks, height i+1 at i
	times     []uint64
	certs     []*chain.Commit
	future    []proposalMsg // proposals of later heights, stepped after NewHeight

	// For the evidence check: distinct blocks of each signer, height, round and type
	// delivered within the engine's window, and what the engine reported.
	delivered map[evKey][]chain.Hash
	reported  map[evKey]bool

	commitsAfterHeal int
}

type simEvent struct {
	at    time.Duration
	seq   uint64
	node  int
	epoch int
	kind  uint8
	from  int
	msg   any   // delivery payload
	ev    Event // engine event for evEngine
}

const (
	evDeliver uint8 = iota
	evEngine        // a timer, BlockBuilt or NewHeight of the node
	evStatus        // periodic status broadcast
	evCrash
	evRestart
)

type eventQueue []*simEvent

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(*simEvent)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// setChange is an entry of a validator-set schedule: from height on, the set is keys (indices
// into testKeys, in index order), until the next entry.
type setChange struct {
	from  uint64
	keys  []int
	addrs []chain.Address
	vals  []chain.Validator
}

type sim struct {
	seed   int64
	rng    *rand.Rand
	n      int // validators at height 1
	f      int
	nodes  []*simNode
	sched  []setChange // the validator sets by height; sched[0] is from height 1
	fixed  bool        // a single set: NewHeight names none (nil), as before sets could change
	target int         // committed heights every honest node must reach
	healAt time.Duration
	drop   float64
	// dropPrecommit is an extra drop rate of precommits before the heal: some validators
	// see a commit that others miss, the case where locks matter.
	dropPrecommit float64
	// status is how often nodes tell peers their height: how fast a node behind syncs.
	status  time.Duration
	dup     float64
	delay   time.Duration
	parts   []partition
	eqRate  float64 // how often an equivocator equivocates
	genesis chain.Hash

	queue        eventQueue
	seq          uint64
	now          time.Duration
	events       int
	blocks       map[chain.Hash]simBlock
	heightBlocks map[uint64][]chain.Hash    // blocks built or made up at each height, in order
	roundBlocks  map[[2]uint64][]chain.Hash // blocks proposed at each height and round
	builds       int
	commits      map[uint64]chain.Hash // the first honest commit of each height
	signed       map[evKey]string      // every message an honest validator signed
	checked      map[string]bool       // signatures verified (cache by encoding)
	certOK       map[string]bool
	stats        simStats
	err          error
	trace        []string
	tracing      bool
}

func newSim(seed int64, tracing bool) *sim {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x10ad1))
	s := &sim{
		seed: seed, rng: rng, tracing: tracing,
		blocks: map[chain.Hash]simBlock{}, heightBlocks: map[uint64][]chain.Hash{}, roundBlocks: map[[2]uint64][]chain.Hash{}, commits: map[uint64]chain.Hash{},
		signed: map[evKey]string{}, checked: map[string]bool{}, certOK: map[string]bool{},
		genesis: crypto.Keccak256Hash([]byte("sim genesis")),
	}
	switch seed % 10 {
	case 0:
		s.n, s.target = 1, 5
	case 1, 2, 3, 4, 5:
		s.n, s.target = 4, 3
	default:
		s.n, s.target = 7, 2
	}
	s.f = (s.n - 1) / 3
	universe := s.n // nodes with a validator key: every member of any set
	s.fixed = (seed/10)%3 != 0
	if s.fixed {
		s.sched = []setChange{{from: 1, keys: seq(s.n)}}
	} else {
		universe = s.makeSchedule()
	}
	for i := range s.sched {
		c := &s.sched[i]
		for _, k := range c.keys {
			c.addrs = append(c.addrs, testAddr(k))
			c.vals = append(c.vals, chain.Validator{Address: testAddr(k)})
		}
	}
	// The fault budget: byzantine plus crashing validators, at most f (of the first set), and
	// at most f of every set a faulty node is in.
	faults := s.f
	if rng.IntN(4) == 0 {
		faults = rng.IntN(s.f + 1)
	}
	byz := rng.IntN(faults + 1)
	kinds := make([]nodeKind, universe)
	assigned := 0
	for _, p := range rng.Perm(universe) {
		if assigned == faults {
			break
		}
		if !s.faultFits(kinds, p) {
			continue
		}
		switch {
		case assigned >= byz:
			kinds[p] = crashy
		case rng.IntN(3) == 0:
			kinds[p] = silent
		default:
			kinds[p] = equivocator
		}
		assigned++
	}
	if s.n == 1 || rng.IntN(2) == 0 {
		kinds = append(kinds, observer)
	}
	s.eqRate = 0.3 + 0.7*rng.Float64()
	if rng.IntN(5) > 0 {
		s.healAt = time.Duration(rng.Int64N(int64(25 * time.Second)))
		s.drop = 0.4 * rng.Float64()
		if rng.IntN(2) == 0 {
			s.dropPrecommit = 0.6 * rng.Float64()
		}
		s.dup = 0.2 * rng.Float64()
		for range rng.IntN(4) {
			start := time.Duration(rng.Int64N(int64(s.healAt + 1)))
			s.parts = append(s.parts, partition{start: start, end: start + time.Duration(rng.Int64N(int64(10*time.Second))), sideA: rng.Uint64()})
		}
	}
	s.delay = time.Millisecond + time.Duration(rng.Int64N(int64(400*time.Millisecond)))
	s.status = time.Second + time.Duration(rng.Int64N(int64(5*time.Second)))
	for i, k := range kinds {
		nd := &simNode{idx: i, kind: k, key: i, skew: time.Duration(rng.Int64N(int64(2*time.Second))) - time.Second,
			persisted: map[string]bool{}, delivered: map[evKey][]chain.Hash{}, reported: map[evKey]bool{}}
		if k == observer {
			nd.key = simObserverKey
		}
		nd.cfg = Config{
			ChainID: testChainID, Validators: s.sched[0].addrs, Self: testAddr(nd.key),
			TimeoutPropose: time.Second, TimeoutPrevote: 500 * time.Millisecond, TimeoutPrecommit: 500 * time.Millisecond,
			TimeoutIncrement: 250 * time.Millisecond, TimeoutMax: 4 * time.Second, MaxDrift: 3 * time.Second,
		}
		if k != observer {
			nd.cfg.Signer = keySigner{testKeys[nd.key]}
		}
		if k == crashy {
			// Crashes end (the node restarts) before the network heals.
			for t := time.Duration(0); ; {
				t += time.Duration(rng.Int64N(int64(8 * time.Second)))
				down := 100*time.Millisecond + time.Duration(rng.Int64N(int64(5*time.Second)))
				if t+down >= s.healAt {
					break
				}
				s.push(&simEvent{at: t, node: i, kind: evCrash})
				s.push(&simEvent{at: t + down, node: i, kind: evRestart})
				t += down
			}
		}
		s.nodes = append(s.nodes, nd)
	}
	return s
}

// simObserverKey is the observer's key, in no validator set.
const simObserverKey = 9

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// makeSchedule draws one or two validator-set changes from the first set 0..n-1: a member
// added (a fresh key, at the end), removed, or replaced in its index by a fresh key; the
// second change often undoes an addition (1→2→1, 4→5→4). The first takes effect at height 2
// or 3, the next one or two heights later, and the run goes on to commit a height past the
// last. It returns how many keys the schedule uses (nodes 0 to that - 1 are its validators).
func (s *sim) makeSchedule() int {
	rng := s.rng
	keys := seq(s.n)
	fresh := s.n
	s.sched = []setChange{{from: 1, keys: keys}}
	at := uint64(2 + rng.IntN(2))
	grew := false
	for i := range 1 + rng.IntN(2) {
		next := slices.Clone(keys)
		op := rng.IntN(3)
		if i == 1 && grew && rng.IntN(2) == 0 {
			op = 1
		}
		if op == 1 && len(next) == 1 {
			op = 0
		}
		switch op {
		case 0: // a new member
			next = append(next, fresh)
			fresh++
			grew = true
		case 1: // a member leaves
			i := rng.IntN(len(next))
			next = slices.Delete(next, i, i+1)
			if grew {
				s.stats.backAndForth++
			}
		default: // a member's key is replaced by a fresh one
			next[rng.IntN(len(next))] = fresh
			fresh++
		}
		s.sched = append(s.sched, setChange{from: at, keys: next})
		keys = next
		at += uint64(1 + rng.IntN(2))
	}
	s.target = max(s.target, int(s.sched[len(s.sched)-1].from)+1)
	s.stats.setRuns++
	return fresh
}

// change returns the schedule entry in force at height h.
func (s *sim) change(h uint64) *setChange {
	i := len(s.sched) - 1
	for s.sched[i].from > h {
		i--
	}
	return &s.sched[i]
}

func (s *sim) member(a chain.Address, h uint64) bool { return slices.Contains(s.change(h).addrs, a) }

func (s *sim) proposer(h uint64, r uint32) chain.Address { return proposerIn(s.change(h).addrs, h, r) }

// faultFits reports whether node p may be faulty too: every set it is in keeps at most f
// faulty members.
func (s *sim) faultFits(kinds []nodeKind, p int) bool {
	for _, c := range s.sched {
		if !slices.Contains(c.keys, p) {
			continue
		}
		bad := 1
		for _, k := range c.keys {
			if kinds[k] != honest {
				bad++
			}
		}
		if bad > (len(c.keys)-1)/3 {
			return false
		}
	}
	return true
}

func (s *sim) describe() string {
	var kinds []string
	for _, nd := range s.nodes {
		if nd.kind != honest {
			kinds = append(kinds, fmt.Sprintf("%d:%v", nd.idx, nd.kind))
		}
	}
	sets := ""
	if !s.fixed {
		var cs []string
		for _, c := range s.sched {
			cs = append(cs, fmt.Sprintf("h%d:%v", c.from, c.keys))
		}
		sets = " sets " + strings.Join(cs, " ")
	}
	return fmt.Sprintf("n=%d [%s]%s heal=%v drop=%.2f (precommits +%.2f) dup=%.2f delay<%v partitions=%d status every %v",
		s.n, strings.Join(kinds, " "), sets, s.healAt.Round(time.Millisecond), s.drop, s.dropPrecommit, s.dup, s.delay.Round(time.Millisecond), len(s.parts), s.status.Round(time.Millisecond))
}

func (s *sim) tracef(format string, args ...any) {
	if s.tracing {
		s.trace = append(s.trace, fmt.Sprintf("%9.3fs ", s.now.Seconds())+fmt.Sprintf(format, args...))
	}
}

func (s *sim) traceTail(n int) string {
	return strings.Join(s.trace[max(0, len(s.trace)-n):], "\n")
}

func (s *sim) failf(format string, args ...any) {
	if s.err == nil {
		s.err = fmt.Errorf("at %v: %s", s.now, fmt.Sprintf(format, args...))
		s.tracef("FAIL %v", s.err)
	}
}

func (s *sim) push(e *simEvent) {
	s.seq++
	e.seq = s.seq
	heap.Push(&s.queue, e)
}

func (s *sim) clock(nd *simNode) time.Time {
	return time.Unix(simBaseUnix, 0).Add(s.now + nd.skew)
}

func (s *sim) run() error {
	for _, nd := range s.nodes {
		if nd.kind == silent {
			continue
		}
		s.start(nd)
		s.push(&simEvent{at: time.Duration(s.rng.Int64N(int64(s.status))), node: nd.idx, kind: evStatus})
	}
	deadline := s.healAt + liveBound
	for s.err == nil && len(s.queue) > 0 && !s.done() {
		e := heap.Pop(&s.queue).(*simEvent)
		if e.at > deadline {
			var lag []string
			for _, nd := range s.nodes {
				if nd.kind.honest() {
					lag = append(lag, fmt.Sprintf("%d:h%d/c%d", nd.idx, len(nd.ledger), nd.commitsAfterHeal))
				}
			}
			s.failf("liveness: not every honest node committed %d blocks, one after the heal at %v, within %v (height/commits after heal: %s)",
				s.target, s.healAt, liveBound, strings.Join(lag, " "))
			break
		}
		s.now = e.at
		s.events++
		nd := s.nodes[e.node]
		switch e.kind {
		case evDeliver:
			if nd.up {
				s.deliver(nd, e.from, e.msg)
			}
		case evEngine:
			if nd.up && e.epoch == nd.epoch {
				s.step(nd, withNow(e.ev, s.clock(nd)))
				if nh, ok := e.ev.(NewHeight); ok {
					s.replayFuture(nd, nh.Height)
				}
			}
		case evStatus:
			if nd.up {
				s.broadcast(nd, statusMsg{height: uint64(len(nd.ledger)) + 1})
			}
			s.push(&simEvent{at: s.now + s.status, node: nd.idx, kind: evStatus})
		case evCrash:
			s.crash(nd)
		case evRestart:
			s.start(nd)
		}
	}
	return s.err
}

func (s *sim) done() bool {
	if s.now < s.healAt {
		return false
	}
	for _, nd := range s.nodes {
		if nd.kind.honest() && (len(nd.ledger) < s.target || nd.commitsAfterHeal == 0) {
			return false
		}
	}
	return true
}

func withNow(ev Event, now time.Time) Event {
	switch e := ev.(type) {
	case NewHeight:
		e.Now = now
		return e
	case TimeoutFired:
		e.Now = now
		return e
	case BlockBuilt:
		e.Now = now
		return e
	}
	panic(fmt.Sprintf("unexpected scheduled event %T", ev))
}

// start (re)builds a node's engine from its disk and ledger, as the node does on boot: with
// the validator set of the height after its ledger, and its persisted state unless that is
// of a height it already committed.
func (s *sim) start(nd *simNode) {
	var st *SignedState
	if nd.disk != nil {
		var err error
		if st, err = DecodeSignedState(nd.disk); err != nil {
			s.failf("node %d: persisted state does not decode: %v", nd.idx, err)
			return
		}
		if st.Height <= uint64(len(nd.ledger)) {
			st = nil
		}
	}
	nd.cfg.Validators = s.change(uint64(len(nd.ledger)) + 1).addrs
	eng, err := New(nd.cfg, st)
	if err != nil {
		s.failf("node %d: New: %v", nd.idx, err)
		return
	}
	nd.eng, nd.up = eng, true
	if st != nil {
		s.stats.restores++
	}
	nd.epoch++
	nd.future = nil
	clear(nd.delivered)
	clear(nd.reported)
	s.tracef("node %d starts at height %d (persisted: %v)", nd.idx, len(nd.ledger)+1, st != nil)
	s.step(nd, s.newHeight(nd))
}

// newHeight is the NewHeight after the node's ledger, with the sets at that height and the
// next (nil if the set never changes).
func (s *sim) newHeight(nd *simNode) NewHeight {
	nh := NewHeight{Now: s.clock(nd), Height: uint64(len(nd.ledger)) + 1, ParentHash: s.genesis, ParentTime: simBaseUnix}
	if h := len(nd.ledger); h > 0 {
		nh.ParentHash, nh.ParentTime = nd.ledger[h-1], nd.times[h-1]
	}
	if !s.fixed {
		nh.Validators, nh.NextValidators = s.change(nh.Height).addrs, s.change(nh.Height+1).addrs
	}
	return nh
}

func (s *sim) crash(nd *simNode) {
	s.tracef("node %d crashes", nd.idx)
	s.stats.crashes++
	nd.up, nd.eng = false, nil
	nd.epoch++
}

// deliver hands a message to a node, which verifies it as the real node would.
func (s *sim) deliver(nd *simNode, from int, msg any) {
	switch m := msg.(type) {
	case proposalMsg:
		if !s.verified(m.p.Encode(), func() error { return m.p.Verify(testChainID) }) {
			return
		}
		for _, v := range m.pol {
			if !s.verified(v.Encode(), func() error { return v.Verify(testChainID) }) {
				return
			}
		}
		st := nd.eng.Status()
		if m.p.Height > st.Height {
			if len(nd.future) == maxFuture {
				nd.future = nd.future[1:]
			}
			nd.future = append(nd.future, m)
			return
		}
		s.stepProposal(nd, m)
	case *Vote:
		if !s.verified(m.Encode(), func() error { return m.Verify(testChainID) }) {
			return
		}
		st := nd.eng.Status()
		k := evKey{m.Validator, m.Height, m.Round, m.Type}
		expect := false
		if nd.kind.honest() && st.Step != StepCommit && m.Height == st.Height && uint64(m.Round) <= uint64(st.Round)+1 && s.member(m.Validator, m.Height) {
			hs := nd.delivered[k]
			expect = slices.ContainsFunc(hs, func(h chain.Hash) bool { return h != m.BlockHash })
			if !slices.Contains(hs, m.BlockHash) {
				nd.delivered[k] = append(hs, m.BlockHash)
			}
		}
		s.step(nd, VoteReceived{Now: s.clock(nd), Vote: *m})
		if expect {
			s.stats.evidenceChecks++
		}
		if expect && nd.up && !nd.reported[k] {
			s.failf("node %d was shown two different votes of %s for %d/%d type %d and reported no evidence", nd.idx, s.who(m.Validator), m.Height, m.Round, m.Type)
		}
	case statusMsg:
		if m.height <= uint64(len(nd.ledger)) {
			h := m.height
			s.send(nd, s.nodes[from], syncMsg{height: h, hash: nd.ledger[h-1], cert: nd.certs[h-1]})
		}
	case syncMsg:
		if m.height != uint64(len(nd.ledger))+1 || !s.certValid(m.height, m.hash, m.cert) {
			return
		}
		s.tracef("node %d syncs height %d: %s", nd.idx, m.height, short(m.hash))
		s.stats.syncs++
		s.apply(nd, m.height, m.hash, m.cert)
		nd.epoch++ // a pending NewHeight of the engine's own commit is stale now
		s.step(nd, s.newHeight(nd))
		s.replayFuture(nd, m.height+1)
	}
}

// stepProposal steps a proposal of the node's current (or an earlier) height, with the
// block's validity as the node judges it.
func (s *sim) stepProposal(nd *simNode, m proposalMsg) {
	p := *m.p
	st := nd.eng.Status()
	b, ok := s.blocks[p.BlockHash]
	parent := s.newHeight(nd).ParentHash
	valid := ok && b.valid && b.height == p.Height && b.parent == parent && b.time == p.BlockTime
	k := evKey{p.Proposer, p.Height, p.Round, 0}
	expect := false
	if nd.kind.honest() && st.Step != StepCommit && p.Height == st.Height && uint64(p.Round) <= uint64(st.Round)+1 &&
		p.Proposer == s.proposer(p.Height, p.Round) {
		id := crypto.Keccak256Hash(p.Encode()[:ProposalSize-20-65]) // everything but proposer and signature
		hs := nd.delivered[k]
		expect = slices.ContainsFunc(hs, func(h chain.Hash) bool { return h != id })
		if !slices.Contains(hs, id) {
			nd.delivered[k] = append(hs, id)
		}
	}
	s.step(nd, ProposalReceived{Now: s.clock(nd), Proposal: p, POL: m.pol, BlockValid: valid})
	if expect {
		s.stats.evidenceChecks++
	}
	if expect && nd.up && !nd.reported[k] {
		s.failf("node %d was shown two different proposals of %s for %d/%d and reported no evidence", nd.idx, s.who(p.Proposer), p.Height, p.Round)
	}
}

func (s *sim) replayFuture(nd *simNode, height uint64) {
	keep := nd.future[:0]
	var now []proposalMsg
	for _, m := range nd.future {
		switch {
		case m.p.Height == height:
			now = append(now, m)
		case m.p.Height > height:
			keep = append(keep, m)
		}
	}
	nd.future = keep
	for _, m := range now {
		if nd.up {
			s.stepProposal(nd, m)
		}
	}
}

func (s *sim) verified(enc []byte, verify func() error) bool {
	k := string(enc)
	ok, seen := s.checked[k]
	if !seen {
		ok = verify() == nil
		s.checked[k] = ok
	}
	return ok
}

func (s *sim) certValid(height uint64, hash chain.Hash, c *chain.Commit) bool {
	k := string(c.Encode())
	ok, seen := s.certOK[k]
	if !seen {
		ok = chain.VerifyCommit(testChainID, s.change(height).vals, height, hash, c) == nil
		s.certOK[k] = ok
	}
	return ok
}

// step steps an event into a node's engine and handles the actions in order, as the node does.
func (s *sim) step(nd *simNode, ev Event) {
	if s.err != nil || !nd.up {
		return
	}
	acts, err := nd.eng.Step(ev)
	if s.tracing {
		s.tracef("node %d <- %s", nd.idx, s.fmtEvent(ev))
		for _, a := range acts {
			s.tracef("node %d -> %s", nd.idx, s.fmtAction(a))
		}
	}
	if err != nil { // the nodes step only verified messages of validators, in their rounds
		s.failf("node %d: %v", nd.idx, err)
	}
	epoch := nd.epoch
	for _, a := range acts {
		if !nd.up || nd.epoch != epoch || s.err != nil {
			return // crashed in the middle of the list
		}
		s.handle(nd, a)
	}
}

func (s *sim) handle(nd *simNode, a Action) {
	switch a := a.(type) {
	case Persist:
		nd.disk = a.State.Encode()
		if a.State.Proposal != nil {
			nd.persisted[string(a.State.Proposal.Encode())] = true
		}
		for _, v := range []*Vote{a.State.Prevote, a.State.Precommit} {
			if v != nil {
				nd.persisted[string(v.Encode())] = true
			}
		}
	case Broadcast:
		s.onBroadcast(nd, a)
	case ScheduleTimeout:
		s.push(&simEvent{at: s.now + a.After, node: nd.idx, epoch: nd.epoch, kind: evEngine,
			ev: TimeoutFired{Height: a.Height, Round: a.Round, Step: a.Step}})
	case BuildBlock:
		s.builds++
		h := crypto.Keccak256Hash([]byte(fmt.Sprintf("sim block %d %d %d %d", nd.idx, a.Height, a.Round, s.builds)))
		t := max(uint64(s.clock(nd).Unix()), a.ParentTime+1)
		s.addBlock(h, simBlock{height: a.Height, parent: a.ParentHash, time: t, valid: true})
		s.push(&simEvent{at: s.now + time.Duration(1+s.rng.IntN(30))*time.Millisecond, node: nd.idx, epoch: nd.epoch, kind: evEngine,
			ev: BlockBuilt{Height: a.Height, Round: a.Round, BlockHash: h, BlockTime: t}})
	case Commit:
		if !s.certValid(a.Height, a.BlockHash, a.Certificate) {
			s.failf("node %d: commit certificate for %d does not verify", nd.idx, a.Height)
			return
		}
		if a.Height != uint64(len(nd.ledger))+1 {
			s.failf("node %d: commit of height %d with %d blocks applied", nd.idx, a.Height, len(nd.ledger))
			return
		}
		s.apply(nd, a.Height, a.BlockHash, a.Certificate)
		s.push(&simEvent{at: s.now + commitDelay, node: nd.idx, epoch: nd.epoch, kind: evEngine, ev: s.newHeight(nd)})
	case Evidence:
		s.checkEvidence(nd, a.A.Validator, a.A.Digest(testChainID), a.A.Sig, a.B.Digest(testChainID), a.B.Sig)
		if a.A.Validator != a.B.Validator || a.A.Type != a.B.Type || a.A.Height != a.B.Height || a.A.Round != a.B.Round || a.A.BlockHash == a.B.BlockHash {
			s.failf("node %d: evidence of votes that do not conflict", nd.idx)
		}
		nd.reported[evKey{a.A.Validator, a.A.Height, a.A.Round, a.A.Type}] = true
		s.stats.evidence++
	case ProposalEvidence:
		s.checkEvidence(nd, a.A.Proposer, a.A.Digest(testChainID), a.A.Sig, a.B.Digest(testChainID), a.B.Sig)
		if a.A.Proposer != a.B.Proposer || !a.A.conflicts(&a.B) {
			s.failf("node %d: evidence of proposals that do not conflict", nd.idx)
		}
		nd.reported[evKey{a.A.Proposer, a.A.Height, a.A.Round, 0}] = true
		s.stats.evidence++
	default:
		s.failf("unknown action %T", a)
	}
}

// apply commits a block to a node's ledger and checks it against every other honest commit.
func (s *sim) apply(nd *simNode, height uint64, hash chain.Hash, cert *chain.Commit) {
	b, ok := s.blocks[hash]
	if !ok || !b.valid || b.height != height {
		s.failf("node %d commits an unknown or invalid block %s at %d", nd.idx, short(hash), height)
		return
	}
	if nd.kind.honest() {
		if first, ok := s.commits[height]; ok && first != hash {
			s.failf("SAFETY: node %d commits %s at height %d, another honest node committed %s", nd.idx, short(hash), height, short(first))
			return
		}
		s.commits[height] = hash
		s.stats.commits++
		if !s.fixed && height > 1 && !slices.Equal(s.change(height).keys, s.change(height-1).keys) {
			s.stats.activationCommits++
		}
		if nd.kind != observer && !s.member(nd.cfg.Self, height) && s.member(nd.cfg.Self, 1) {
			s.stats.leftCommits++
		}
		s.stats.maxRound = max(s.stats.maxRound, int(cert.Round))
		if s.now >= s.healAt {
			if nd.commitsAfterHeal == 0 {
				s.stats.maxRecovery = max(s.stats.maxRecovery, s.now-s.healAt)
			}
			nd.commitsAfterHeal++
		}
	}
	if p := s.newHeight(nd).ParentHash; b.parent != p {
		s.failf("node %d commits %s on parent %s, its ledger head is %s", nd.idx, short(hash), short(b.parent), short(p))
	}
	nd.ledger = append(nd.ledger, hash)
	nd.times = append(nd.times, b.time)
	nd.certs = append(nd.certs, cert)
	s.tracef("node %d commits height %d: %s (round %d)", nd.idx, height, short(hash), cert.Round)
}

func (s *sim) checkEvidence(nd *simNode, who chain.Address, da chain.Hash, sa [65]byte, db chain.Hash, sb [65]byte) {
	if i := slices.IndexFunc(s.nodes, func(o *simNode) bool { return o.cfg.Self == who }); i >= 0 && s.nodes[i].kind.honest() {
		s.failf("node %d accuses honest validator %d", nd.idx, i)
	}
	for _, x := range []struct {
		d chain.Hash
		s [65]byte
	}{{da, sa}, {db, sb}} {
		if got, err := chain.RecoverVoter(x.d, x.s); err != nil || got != who {
			s.failf("node %d: evidence signature does not recover to %s", nd.idx, s.who(who))
		}
	}
}

// onBroadcast checks an honest node's own messages and sends; an equivocator may send a
// conflicting twin to some peers instead of (or besides) the message.
func (s *sim) onBroadcast(nd *simNode, a Broadcast) {
	var enc []byte
	var key evKey
	own := false
	var msg any
	if p := a.Proposal; p != nil {
		enc, key, own, msg = p.Encode(), evKey{p.Proposer, p.Height, p.Round, 0}, p.Proposer == nd.cfg.Self, proposalMsg{p, a.POL}
		s.proposed(p)
	} else {
		v := a.Vote
		enc, key, own, msg = v.Encode(), evKey{v.Validator, v.Height, v.Round, v.Type}, v.Validator == nd.cfg.Self, v
	}
	if own && !s.member(nd.cfg.Self, key.height) {
		s.failf("node %d signed a %s, not being a validator at height %d", nd.idx, s.fmtKey(key), key.height)
		return
	}
	if own && !s.member(nd.cfg.Self, 1) {
		s.stats.joinedSigned++
	}
	if own && nd.kind.honest() {
		if !nd.persisted[string(enc)] {
			s.failf("node %d broadcasts its own %s before persisting it", nd.idx, s.fmtKey(key))
			return
		}
		if prev, ok := s.signed[key]; ok && prev != string(enc) {
			s.failf("node %d signed two different messages for %s", nd.idx, s.fmtKey(key))
			return
		}
		s.signed[key] = string(enc)
		if nd.kind == crashy && s.now+6*time.Second < s.healAt && s.rng.IntN(50) == 0 {
			// Crash between the Persist and the Broadcast: the message is lost, and the
			// restarted engine must not sign anything different.
			s.crash(nd)
			s.stats.midListCrashes++
			s.push(&simEvent{at: s.now + time.Duration(s.rng.Int64N(int64(5*time.Second))), node: nd.idx, kind: evRestart})
			return
		}
	}
	if !own || nd.kind != equivocator || s.rng.Float64() >= s.eqRate {
		s.broadcast(nd, msg)
		return
	}
	twin := s.twin(nd, msg)
	s.stats.equivocations++
	for _, to := range s.nodes {
		if to == nd {
			continue
		}
		switch s.rng.IntN(4) {
		case 0, 1:
			s.send(nd, to, msg)
		case 2:
			s.send(nd, to, twin)
		default:
			s.send(nd, to, msg)
			s.send(nd, to, twin)
		}
	}
}

func (s *sim) addBlock(h chain.Hash, b simBlock) {
	s.blocks[h] = b
	s.heightBlocks[b.height] = append(s.heightBlocks[b.height], h)
}

func (s *sim) proposed(p *Proposal) {
	k := [2]uint64{p.Height, uint64(p.Round)}
	if !slices.Contains(s.roundBlocks[k], p.BlockHash) {
		s.roundBlocks[k] = append(s.roundBlocks[k], p.BlockHash)
	}
}

// twin makes a conflicting message signed by an equivocator.
func (s *sim) twin(nd *simNode, msg any) any {
	key := testKeys[nd.key]
	switch m := msg.(type) {
	case proposalMsg:
		p := *m.p
		switch s.rng.IntN(3) {
		case 0: // another valid block, fresh and in time, which honest validators locked on
			// something else must not prevote
			s.builds++
			p.BlockHash = crypto.Keccak256Hash([]byte(fmt.Sprintf("sim twin %d", s.builds)))
			p.POLRound = -1
			s.addBlock(p.BlockHash, s.blocks[m.p.BlockHash])
		case 1: // a valid block, but its time is far off
			s.builds++
			p.BlockHash = crypto.Keccak256Hash([]byte(fmt.Sprintf("sim twin %d", s.builds)))
			b := s.blocks[m.p.BlockHash]
			b.time += 60
			p.BlockTime = b.time
			s.addBlock(p.BlockHash, b)
			p.POLRound = -1
		default: // the same block with a time that does not match it
			p.BlockTime++
		}
		sig, _ := chain.SignVote(key, p.Digest(testChainID))
		p.Sig = sig
		s.proposed(&p)
		return proposalMsg{&p, m.pol}
	case *Vote:
		// Mostly a block proposed in the round (whatever may split the honest validators),
		// else nil, a block of another round or a made-up one.
		v := *m
		others := slices.Clone(s.roundBlocks[[2]uint64{v.Height, uint64(v.Round)}])
		if len(others) == 0 || s.rng.IntN(4) == 0 {
			others = append(others, chain.Hash{}, crypto.Keccak256Hash([]byte("sim junk")))
			others = append(others, s.heightBlocks[v.Height]...)
		}
		others = slices.DeleteFunc(others, func(h chain.Hash) bool { return h == m.BlockHash })
		if len(others) == 0 && m.IsNil() {
			others = append(others, crypto.Keccak256Hash([]byte("sim junk")))
		} else if len(others) == 0 {
			others = append(others, chain.Hash{})
		}
		v.BlockHash = others[s.rng.IntN(len(others))]
		sig, _ := chain.SignVote(key, v.Digest(testChainID))
		v.Sig = sig
		return &v
	}
	panic("twin of an unknown message")
}

func (s *sim) broadcast(from *simNode, msg any) {
	for _, to := range s.nodes {
		if to != from {
			s.send(from, to, msg)
		}
	}
}

// send puts a message on the simulated network: before the heal it may be dropped, cut by a
// partition, delayed long or duplicated; after it, it arrives within 50 ms (maybe twice).
func (s *sim) send(from, to *simNode, msg any) {
	if to.kind == silent {
		return
	}
	copies := 1
	if s.rng.Float64() < s.dup {
		copies = 2
	}
	for range copies {
		var d time.Duration
		if s.now < s.healAt {
			if v, ok := msg.(*Vote); ok && v.Type == chain.Precommit && s.rng.Float64() < s.dropPrecommit {
				continue
			}
			if s.rng.Float64() < s.drop || s.cut(from.idx, to.idx) {
				continue
			}
			d = time.Duration(s.rng.Int64N(int64(s.delay))) + time.Millisecond
			if s.rng.IntN(20) == 0 {
				d += time.Duration(s.rng.Int64N(int64(3 * time.Second)))
			}
		} else {
			d = time.Millisecond + time.Duration(s.rng.Int64N(int64(50*time.Millisecond)))
		}
		s.push(&simEvent{at: s.now + d, node: to.idx, from: from.idx, kind: evDeliver, msg: msg})
	}
}

func (s *sim) cut(a, b int) bool {
	for _, p := range s.parts {
		if s.now >= p.start && s.now < p.end && (p.sideA>>a)&1 != (p.sideA>>b)&1 {
			return true
		}
	}
	return false
}

func short(h chain.Hash) string {
	if h == (chain.Hash{}) {
		return "nil"
	}
	return h.Hex()[2:8]
}

func (s *sim) who(a chain.Address) string {
	for i := range testKeys {
		if testAddr(i) == a {
			return fmt.Sprintf("v%d", i)
		}
	}
	return a.Hex()
}

func (s *sim) fmtSet(set []chain.Address) string {
	var out []string
	for _, a := range set {
		out = append(out, s.who(a))
	}
	return "[" + strings.Join(out, " ") + "]"
}

func (s *sim) fmtKey(k evKey) string {
	what := map[chain.VoteType]string{0: "proposal", chain.Prevote: "prevote", chain.Precommit: "precommit"}[k.typ]
	return fmt.Sprintf("%s of %s at %d/%d", what, s.who(k.signer), k.height, k.round)
}

func (s *sim) fmtVote(v *Vote) string {
	return fmt.Sprintf("vote %d %s %d/%d %s", v.Type, s.who(v.Validator), v.Height, v.Round, short(v.BlockHash))
}

func (s *sim) fmtProposal(p *Proposal) string {
	return fmt.Sprintf("proposal %s %d/%d %s t=%d pol=%d", s.who(p.Proposer), p.Height, p.Round, short(p.BlockHash), p.BlockTime, p.POLRound)
}

func (s *sim) fmtEvent(ev Event) string {
	switch e := ev.(type) {
	case NewHeight:
		out := fmt.Sprintf("new-height %d parent %s", e.Height, short(e.ParentHash))
		if e.Validators != nil {
			out += fmt.Sprintf(" sets %s / %s", s.fmtSet(e.Validators), s.fmtSet(e.NextValidators))
		}
		return out
	case ProposalReceived:
		return fmt.Sprintf("%s valid=%v pol=%d", s.fmtProposal(&e.Proposal), e.BlockValid, len(e.POL))
	case VoteReceived:
		return s.fmtVote(&e.Vote)
	case TimeoutFired:
		return fmt.Sprintf("timeout %v %d/%d", e.Step, e.Height, e.Round)
	case BlockBuilt:
		return fmt.Sprintf("built %d/%d %s t=%d", e.Height, e.Round, short(e.BlockHash), e.BlockTime)
	}
	return fmt.Sprintf("%T", ev)
}

func (s *sim) fmtAction(a Action) string {
	switch a := a.(type) {
	case Persist:
		return fmt.Sprintf("persist %d/%d locked=%s@%d valid=%s@%d", a.State.Height, a.State.Round, short(a.State.Locked.Hash), a.State.Locked.Round, short(a.State.Valid.Hash), a.State.Valid.Round)
	case Broadcast:
		if a.Proposal != nil {
			return fmt.Sprintf("broadcast %s with %d POL votes", s.fmtProposal(a.Proposal), len(a.POL))
		}
		return "broadcast " + s.fmtVote(a.Vote)
	case ScheduleTimeout:
		return fmt.Sprintf("schedule %v %d/%d %v", a.Step, a.Height, a.Round, a.After)
	case BuildBlock:
		return fmt.Sprintf("build %d/%d", a.Height, a.Round)
	case Commit:
		return fmt.Sprintf("commit %d %s round %d (%d sigs)", a.Height, short(a.BlockHash), a.Certificate.Round, len(a.Certificate.Sigs))
	case Evidence:
		return "evidence " + s.fmtVote(&a.A) + " / " + short(a.B.BlockHash)
	case ProposalEvidence:
		return "proposal-evidence " + s.fmtProposal(&a.A) + " / " + s.fmtProposal(&a.B)
	}
	return fmt.Sprintf("%T", a)
}

package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"

	"github.com/loyal-ledger/loyal/chain"
)

// Source yields a chain: its genesis, its blocks from height 1 in order (io.EOF itself,
// unwrapped, after the last), then the last block's certificate. *export.Reader is one.
type Source interface {
	Genesis() *chain.Genesis
	Next() (*chain.Block, error)
	Final() *chain.Commit
}

// ContextSource is a Source whose reads can be bounded by a context (a node's API): Verify
// cancels it when it stops, so it never waits for a node that has stopped answering.
type ContextSource interface {
	Source
	NextContext(ctx context.Context) (*chain.Block, error)
}

// Options tune Verify. The zero value verifies with every core and trusts the genesis the
// source holds (the report names its hash for the auditor to compare).
type Options struct {
	// Genesis, if not zero, is the hash of the genesis the auditor trusts: a source of any
	// other genesis fails at once.
	Genesis chain.Hash
	// Workers recover signatures (0: GOMAXPROCS).
	Workers int
	// Progress, if set, is called after each block with the height and the transactions so
	// far, from Verify's goroutine.
	Progress func(height, txs uint64)
	// Observe, if set, is called after each block has passed every check, from Verify's
	// goroutine, with what the block did (reports and proofs are built on it).
	Observe func(*Observed) error
	// Since, if set, resumes from a checkpoint of an earlier verification of this chain:
	// blocks up to its height are skipped (a source may start after it). The checkpoint is
	// checked, not trusted (see Checkpoint).
	Since *Checkpoint
	// StopAt, if not zero, ends the verification after that height (the final certificate
	// is then the one the next block carries): a proof or a report as of a past height.
	StopAt uint64
}

// Observed is one verified block, as Options.Observe sees it: the block, its transactions'
// senders and entries, and the state after it. The state and the slices are valid only
// during the call; the state must not be changed.
type Observed struct {
	Block   *chain.Block
	Senders []chain.Address
	Entries [][]chain.Entry // per transaction
	State   chain.StateReader
	Scan    chain.StateScanner // records in key order, by prefix
	Prove   func(key []byte) (*chain.StateProof, error)
	// SetChanges are the validator-set changes verified up to this block (ADR 0003), oldest
	// first, as a checkpoint carries them: each certificate is filled once the block after
	// the change's has passed, so a change at this block has none yet. Read it only.
	SetChanges []chain.SetChange
}

// ErrFailed is a chain that does not verify; Report.Failure says where and why.
var ErrFailed = &chain.Error{Code: "verify_failed", Msg: "the chain does not verify"}

// Verify checks src from genesis to its last block (see the package comment). It returns the
// report and nil when every check passed; otherwise the report up to the failure, with
// Failure set, and an error wrapping ErrFailed that names the height and the check. It stops
// early, with ctx's error, if ctx is cancelled.
func Verify(ctx context.Context, src Source, o Options) (*Report, error) {
	g := src.Genesis()
	v := &verifier{
		observe: o.Observe, stopAt: o.StopAt,
		g: g, schedule: chain.NewSchedule(g), signer: chain.NewSigner(g.ChainID, g.Hash()),
		state: newMemState(), tally: map[string]*ProgramReport{},
		rep: &Report{Genesis: g.Hash()},
	}
	if err := v.genesis(o.Genesis); err != nil {
		return v.rep, err
	}
	if o.Since != nil {
		if o.StopAt != 0 && o.StopAt < o.Since.Height() {
			return v.rep, fmt.Errorf("verify: stop at %d, before the checkpoint's height %d", o.StopAt, o.Since.Height())
		}
		if err := v.resume(o.Since); err != nil {
			return v.rep, err
		}
		v.rep.Since = o.Since.Height()
	}
	skip := v.parent.Height
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The pipeline: the reader decodes blocks and queues their signatures in chunks to the
	// workers, so that every core recovers signatures while this goroutine executes the
	// blocks before; at most cap(blocks)+2 blocks are held.
	blocks := make(chan *recovered, 3)
	jobs := make(chan func(), 4*workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for job := range jobs {
				job()
			}
		})
	}
	wg.Go(func() {
		defer close(jobs)
		v.read(ctx, src, jobs, skip, blocks)
	})
	defer wg.Wait()
	defer cancel() // runs before Wait: stops the reader
	for b := range blocks {
		b.wait()
		if b.err != nil {
			return v.rep, v.fail(b.height, b.check, b.err)
		}
		if b.blk.Header.Height <= skip { // before the checkpoint: only its hash links are checked
			if err := v.skipped(b.blk, skip); err != nil {
				return v.rep, v.fail(b.blk.Header.Height, CheckCheckpoint, err)
			}
			continue
		}
		if v.stopAt != 0 && b.blk.Header.Height == v.stopAt+1 {
			// The block after the last one asked for: its header's link and the certificate
			// it carries certify the last one. It is checked as far as that, not executed.
			if err := chain.CheckNext(v.parent, b.blk, v.schedule); err != nil {
				return v.rep, v.fail(b.blk.Header.Height, CheckHeader, err)
			}
			v.pending = b.blk.LastCommit
			cancel()
			break
		}
		if err := v.block(b.blk, b.senders); err != nil {
			return v.rep, err
		}
		if o.Progress != nil {
			o.Progress(v.rep.Height, v.rep.Txs)
		}
	}
	if err := ctx.Err(); err != nil && v.pending == nil {
		return v.rep, err
	}
	if v.stopAt != 0 && v.rep.Height < v.stopAt {
		return v.rep, v.fail(v.rep.Height, CheckRead, fmt.Errorf("the chain ends at height %d, before %d", v.rep.Height, v.stopAt))
	}
	if err := v.final(src); err != nil {
		return v.rep, err
	}
	if err := v.conservation(); err != nil {
		return v.rep, err
	}
	v.rep.Checks = v.checks()
	v.rep.checkpoint = v.checkpoint()
	v.rep.Certificate = v.cert
	return v.rep, nil
}

// skipped checks a block before the checkpoint resumed from, without its signatures or
// execution: that it links to the block before it (the genesis for block 1), and that the
// checkpoint's block is the checkpoint's header. So no byte of the prefix changes unnoticed:
// the decoder checked its transactions and carried certificate against its header.
func (v *verifier) skipped(blk *chain.Block, skip uint64) error {
	h := &blk.Header
	want := v.skipHash
	if h.Height == 1 {
		want = v.rep.Genesis
	}
	if h.PrevHash != want {
		return fmt.Errorf("block %d links to %s, the block before it is %s", h.Height, h.PrevHash, want)
	}
	v.skipHash = blk.Hash()
	if h.Height == skip && v.skipHash != v.parent.Hash {
		return fmt.Errorf("block %d is %s, the checkpoint's is %s", h.Height, v.skipHash, v.parent.Hash)
	}
	return nil
}

// verifier is the state of one verification, owned by Verify's goroutine.
type verifier struct {
	skipHash chain.Hash // the last block skipped before a checkpoint
	observe  func(*Observed) error
	stopAt   uint64
	pending  *chain.Commit // with StopAt: the certificate of the last block, from the block after it
	cert     *chain.Commit // the last block's certificate, once final has checked it
	g        *chain.Genesis
	schedule *chain.Schedule
	signer   *chain.Signer
	state    *memState
	parent   chain.Parent
	last     *chain.Block
	tally    map[string]*ProgramReport // from the transactions' entries
	rep      *Report

	sinceHeader *chain.Header // the checkpoint's header, when resumed

	// changes are the validator-set changes verified (chain.SetChange): a checkpoint carries
	// them so that a later resume checks its validators against genesis's. The last one
	// waits for its certificate, carried by the next block, while changePending.
	changes       []chain.SetChange
	changePending bool
}

// fail records the first failure and returns the error that reports it.
func (v *verifier) fail(height uint64, check string, err error) error {
	v.rep.Failure = &Failure{Height: height, Check: check, Error: err.Error()}
	return fmt.Errorf("%w: height %d: %s: %w", ErrFailed, height, check, err)
}

func (v *verifier) genesis(trusted chain.Hash) error {
	if err := v.g.Validate(); err != nil {
		return v.fail(0, CheckGenesis, err)
	}
	if trusted != (chain.Hash{}) && v.rep.Genesis != trusted {
		return v.fail(0, CheckGenesis, fmt.Errorf("the chain's genesis is %s, the trusted one %s", v.rep.Genesis, trusted))
	}
	st := chain.NewState(v.state, v.schedule.At(0), 0, v.g.GenesisTime)
	if err := v.g.InitState(st); err != nil {
		return v.fail(0, CheckGenesis, err)
	}
	v.state.apply(st.Changes())
	v.parent = chain.Parent{Height: 0, Hash: v.rep.Genesis, Time: v.g.GenesisTime}
	v.rep.StateRoot = v.state.root()
	return nil
}

// recovered is a block read from the source with its transactions' senders (once wait
// returns), or the failure to read it or recover them: at which height, by which check.
type recovered struct {
	blk     *chain.Block
	senders []chain.Address
	height  uint64
	check   string
	err     error

	pending sync.WaitGroup // the block's recovery jobs
	errs    []error        // per transaction, set by the jobs
}

// wait waits for the block's senders and sets err to the first transaction that failed.
func (b *recovered) wait() {
	b.pending.Wait()
	for i, err := range b.errs {
		if err != nil {
			b.check, b.err = CheckSignature, fmt.Errorf("transaction %d (%s): %w", i, b.blk.Txs[i].Hash(), err)
			return
		}
	}
}

// recoverChunk is how many signatures one job recovers.
const recoverChunk = 256

// read feeds blocks, their signatures queued for recovery on jobs, until the source ends,
// fails, or ctx is done; it closes out.
func (v *verifier) read(ctx context.Context, src Source, jobs chan<- func(), skip uint64, out chan<- *recovered) {
	defer close(out)
	next := src.Next
	if cs, ok := src.(ContextSource); ok {
		next = func() (*chain.Block, error) { return cs.NextContext(ctx) }
	}
	for height := uint64(1); ; height++ {
		blk, err := next()
		if err == io.EOF { // exactly: a connection dropped mid-read may wrap io.EOF
			return
		}
		if err == nil && height == 1 && blk.Header.Height > 1 && blk.Header.Height == skip+1 {
			height = blk.Header.Height // a source that starts after the checkpoint
		}
		b := &recovered{blk: blk, height: height}
		switch {
		case err != nil:
			b.check, b.err = CheckRead, err
		case blk.Header.Height != height:
			b.check, b.err = CheckRead, fmt.Errorf("the source sent block %d for height %d", blk.Header.Height, height)
		case height <= skip:
		default:
			if !v.queueRecovery(ctx, b, jobs) {
				return
			}
		}
		select {
		case out <- b:
		case <-ctx.Done():
			return
		}
		if b.err != nil {
			return
		}
	}
}

// queueRecovery queues the recovery of b's senders in chunks; false if ctx ended first.
func (v *verifier) queueRecovery(ctx context.Context, b *recovered, jobs chan<- func()) bool {
	txs := b.blk.Txs
	b.senders = make([]chain.Address, len(txs))
	b.errs = make([]error, len(txs))
	for start := 0; start < len(txs); start += recoverChunk {
		end := min(start+recoverChunk, len(txs))
		b.pending.Add(1)
		job := func() {
			defer b.pending.Done()
			for i := start; i < end; i++ {
				b.senders[i], b.errs[i] = v.signer.Sender(txs[i])
			}
		}
		select {
		case jobs <- job:
		case <-ctx.Done():
			b.pending.Done()
			return false
		}
	}
	return true
}

// block checks one block and executes it on the state.
func (v *verifier) block(blk *chain.Block, senders []chain.Address) error {
	h := &blk.Header
	rules := v.schedule.At(v.parent.Height + 1)
	if err := chain.CheckNext(v.parent, blk, v.schedule); err != nil {
		check := CheckHeader
		if errors.Is(err, chain.ErrBadCertificate) {
			check = CheckCertificate
		}
		return v.fail(v.parent.Height+1, check, err)
	}
	if v.changePending { // blk carries the certificate of the last set change's block
		v.changes[len(v.changes)-1].Certificate = *blk.LastCommit
		v.changePending = false
	}
	st := chain.NewState(v.state, rules, h.Height, h.Time)
	if err := st.BeginBlock(); err != nil {
		return v.fail(h.Height, CheckExecution, err)
	}
	var all [][]chain.Entry
	if v.observe != nil {
		all = make([][]chain.Entry, 0, len(blk.Txs))
	}
	for i, tx := range blk.Txs {
		entries, err := st.ApplyTx(tx, senders[i])
		if err != nil {
			return v.fail(h.Height, CheckExecution, fmt.Errorf("transaction %d (%s): %w", i, tx.Hash(), err))
		}
		v.count(entries)
		if v.observe != nil {
			all = append(all, entries)
		}
	}
	if err := st.Err(); err != nil {
		return v.fail(h.Height, CheckExecution, err)
	}
	v.state.apply(st.Changes())
	if root := v.state.root(); root != h.StateRoot {
		return v.fail(h.Height, CheckStateRoot, fmt.Errorf("executed, the state root is %s; the header says %s", root, h.StateRoot))
	}
	// The validator changes the block decided: the next headers and certificates are
	// checked against them (ADR 0003).
	if err := v.schedule.Follow(v.state); err != nil {
		return v.fail(h.Height, CheckExecution, err)
	}
	if next := v.schedule.At(h.Height + 1); rules.Version >= chain.Version3 && chain.ValidatorSetHash(next.Validators) != chain.ValidatorSetHash(rules.Validators) {
		v.changes = append(v.changes, chain.SetChange{Header: *h, Validators: slices.Clone(next.Validators)})
		v.changePending = true
	}
	v.parent = chain.Parent{Height: h.Height, Hash: blk.Hash(), Time: h.Time}
	v.last = blk
	v.rep.Height, v.rep.Blocks, v.rep.Txs, v.rep.StateRoot = h.Height, v.rep.Blocks+1, v.rep.Txs+uint64(len(blk.Txs)), h.StateRoot
	if v.observe != nil {
		ob := &Observed{Block: blk, Senders: senders, Entries: all, State: v.state, Scan: v.state.scan, Prove: v.state.prove(h), SetChanges: v.changes}
		if err := v.observe(ob); err != nil {
			return fmt.Errorf("verify: observing block %d: %w", h.Height, err)
		}
	}
	return nil
}

// count tallies a transaction's entries per program.
func (v *verifier) count(entries []chain.Entry) {
	for _, e := range entries {
		if e.Program == "" {
			continue // a governance step: it moves no points (ADR 0009)
		}
		p := v.tally[e.Program]
		if p == nil {
			p = &ProgramReport{Symbol: e.Program}
			v.tally[e.Program] = p
		}
		switch e.Cause {
		case chain.CauseEarn:
			p.Earned += e.Credit
		case chain.CauseReverse:
			p.Reversed += e.Debit
		case chain.CauseRedeem:
			p.Redeemed += e.Debit
		case chain.CauseExchangeOut:
			p.ExchangedOut += e.Debit
		case chain.CauseExchangeIn:
			p.ExchangedIn += e.Credit
		}
	}
}

// final checks the last block's certificate, which no later block carries.
func (v *verifier) final(src Source) error {
	c := v.pending
	if c == nil {
		c = src.Final()
	}
	if v.parent.Height == 0 {
		if c != nil {
			return v.fail(0, CheckFinal, errors.New("a certificate with no block"))
		}
		return nil
	}
	if c == nil {
		return v.fail(v.parent.Height, CheckFinal, errors.New("no certificate for the last block"))
	}
	rules := v.schedule.At(v.parent.Height)
	if err := chain.VerifyCommit(rules.ChainID, rules.Validators, v.parent.Height, v.parent.Hash, c); err != nil {
		return v.fail(v.parent.Height, CheckFinal, err)
	}
	v.cert = c
	return nil
}

// conservation checks, for every program, that the entries agree with the program's record
// and that what the program minted less what left it is what its holders hold.
func (v *verifier) conservation() error {
	today := chain.DayOf(v.parent.Time)
	held := map[string]*ProgramReport{}
	err := chain.ForEachAccount(v.state.scan, func(a chain.Address, acc *chain.Account) error {
		for i := range acc.Holdings {
			h := &acc.Holdings[i]
			p := held[h.Program]
			if p == nil {
				p = &ProgramReport{}
				held[h.Program] = p
			}
			if total := h.Balance.Total(today); total > 0 {
				p.Balances += total
				p.Holders++
			}
		}
		return nil
	})
	if err != nil {
		return v.fail(v.parent.Height, CheckConservation, err)
	}
	known := map[string]bool{}
	err = chain.ForEachProgram(v.state.scan, func(prog *chain.Program) error {
		known[prog.Symbol] = true
		s := prog.Stats
		t := v.tally[prog.Symbol]
		if t == nil {
			t = &ProgramReport{}
		}
		r := ProgramReport{
			Symbol: prog.Symbol, Earned: s.Earned, Reversed: s.Reversed, Redeemed: s.Redeemed, Expired: s.Expired,
			ExchangedOut: s.ExchangedOut, ExchangedIn: s.ExchangedIn, Outstanding: s.Outstanding(),
		}
		if h := held[prog.Symbol]; h != nil {
			r.Balances, r.Holders = h.Balances, h.Holders
		}
		v.rep.Programs = append(v.rep.Programs, r)
		switch {
		case t.Earned != s.Earned || t.Reversed != s.Reversed || t.Redeemed != s.Redeemed ||
			t.ExchangedOut != s.ExchangedOut || t.ExchangedIn != s.ExchangedIn:
			return v.fail(v.parent.Height, CheckConservation, fmt.Errorf(
				"%s: the transactions' entries (earned %d, reversed %d, redeemed %d, exchanged out %d, in %d) disagree with the program's record (%d, %d, %d, %d, %d)",
				prog.Symbol, t.Earned, t.Reversed, t.Redeemed, t.ExchangedOut, t.ExchangedIn, s.Earned, s.Reversed, s.Redeemed, s.ExchangedOut, s.ExchangedIn))
		case r.Outstanding != r.Balances:
			return v.fail(v.parent.Height, CheckConservation, fmt.Errorf(
				"%s: earned %d − reversed %d − redeemed %d − expired %d − exchanged out %d + exchanged in %d = %d, but holders hold %d",
				prog.Symbol, s.Earned, s.Reversed, s.Redeemed, s.Expired, s.ExchangedOut, s.ExchangedIn, r.Outstanding, r.Balances))
		}
		return nil
	})
	if err != nil {
		return err
	}
	syms := make([]string, 0, len(v.tally))
	for sym := range v.tally {
		syms = append(syms, sym)
	}
	slices.Sort(syms)
	for _, sym := range syms { // entries of a program that does not exist (a tampered checkpoint's)
		if !known[sym] {
			return v.fail(v.parent.Height, CheckConservation, fmt.Errorf("entries of %q, which is no program", sym))
		}
	}
	return nil
}

// checks says, in words, what a successful verification checked.
func (v *verifier) checks() []string {
	return []string{
		fmt.Sprintf("genesis %s is valid", v.rep.Genesis),
		fmt.Sprintf("%d headers link to their parents, within the chain's limits and structure", v.rep.Blocks),
		fmt.Sprintf("%d certificates: more than two thirds of the validators in force, distinct, valid signatures", v.rep.Blocks),
		fmt.Sprintf("%d transaction signatures recovered", v.rep.Txs),
		fmt.Sprintf("%d blocks executed again: every transaction's chain id, nonce, validity window and effect; every state root", v.rep.Blocks),
		fmt.Sprintf("%d programs conserve their points: minted less what left equals what holders hold", len(v.rep.Programs)),
		fmt.Sprintf("the final state root %s is certified by the last block's certificate", v.rep.StateRoot),
	}
}

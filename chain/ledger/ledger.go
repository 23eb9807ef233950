package ledger

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/smt"
	"github.com/loyal-ledger/loyal/chain/store"
	"github.com/loyal-ledger/loyal/internal/keysort"
)

// Errors of the ledger.
var (
	ErrWrongGenesis = errors.New("ledger: the store belongs to another chain (genesis hash differs)")
	ErrCorrupt      = errors.New("ledger: store is corrupt")
)

// Head is the last committed block.
type Head struct {
	Height    uint64     `json:"height,string"`
	Hash      chain.Hash `json:"hash"`
	Time      uint64     `json:"time,string"`
	StateRoot chain.Hash `json:"state_root"`
}

func (h Head) encode() []byte {
	b := make([]byte, 0, 8+32+8+32)
	b = binary.BigEndian.AppendUint64(b, h.Height)
	b = append(b, h.Hash[:]...)
	b = binary.BigEndian.AppendUint64(b, h.Time)
	return append(b, h.StateRoot[:]...)
}

func decodeHead(b []byte) (Head, error) {
	if len(b) != 80 {
		return Head{}, fmt.Errorf("%w: head record of %d bytes", ErrCorrupt, len(b))
	}
	return Head{
		Height:    binary.BigEndian.Uint64(b),
		Hash:      chain.Hash(b[8:40]),
		Time:      binary.BigEndian.Uint64(b[40:48]),
		StateRoot: chain.Hash(b[48:80]),
	}, nil
}

// Ledger is the committed chain over a store.
type Ledger struct {
	blocks  blockCache // recently read blocks
	db      store.DB
	genesis *chain.Genesis
	gHash   chain.Hash
	signer  *chain.Signer
	rules   *chain.Schedule // the rules in force at each height; see RulesAt

	admit admitCache // committed records admission checks read (CheckQueue); locks itself

	// publishing guards head for Head, apart from mu: admission and the API read the head
	// for every request and must not wait for a block being built, verified or executed
	// (which hold mu for as long as executing it takes). A commit holds it from the moment
	// its block may become visible in the store until head names that block, so whatever a
	// reader found in the store, Head is at least that far.
	publishing sync.RWMutex

	mu    sync.Mutex // guards tree, head (with publishing), cache and spec
	tree  *smt.Tree
	head  Head
	cache *stateCache
	// spec is the last block built or verified on top of the head, left executed in the
	// tree: committing that same block next (the usual case: a validator verifies a proposal,
	// then commits it) skips executing it again. Whatever else touches the tree settles it
	// first (reverts it).
	spec *speculation
	// expiry remembers the day of the last block committed through this Ledger: execution of a
	// block of that day skips reading every program (chain.State.BeginBlockAfter). It is
	// derived from committed state alone, so every node and every restart executes alike: it
	// is unknown after Open (the first block reads the programs) and after a failed write.
	expiry expiryMemo
}

// expiryMemo is the day through which every program has processed expiry, if known.
type expiryMemo struct {
	day   chain.Day
	known bool
}

// speculation is a block executed on top of the head but not committed.
type speculation struct {
	block    chain.Hash // its header's hash, computed afresh
	parent   chain.Hash
	txs      []*chain.Tx // a copy of the block's list
	ex       *executed
	verified bool // its header and certificate were checked (BuildBlock takes them on trust)
}

// StoreOptions are the store options a ledger of this genesis needs: the atomic batch of
// the largest block the genesis allows (block, state, history, indexes: about ten times the
// block's size) must fit one store transaction (badger sizes its memtable from this).
func StoreOptions(p chain.Params) *store.Options {
	return &store.Options{MaxBatchBytes: min(16*p.MaxBlockBytes+(1<<20), store.MaxBatchBytesLimit)}
}

// stateCacheBytes bounds the in-memory cache of state records used while executing blocks.
const stateCacheBytes = 256 << 20

// Open opens the ledger in db, writing the genesis state if the store is empty. It refuses a
// store of another genesis, one whose head block is missing or does not match the head record
// (hash, height, time, state root), and one whose recomputed state root differs from its head's.
func Open(db store.DB, g *chain.Genesis) (*Ledger, error) {
	l := &Ledger{db: db, genesis: g, gHash: g.Hash(), rules: chain.NewSchedule(g), tree: smt.New(), cache: newStateCache(stateCacheBytes)}
	l.signer = chain.NewSigner(g.ChainID, l.gHash)
	stored, err := db.Get(metaGenesis)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return l, l.initGenesis()
	case err != nil:
		return nil, fmt.Errorf("ledger: read genesis hash: %w", err)
	case !bytes.Equal(stored, l.gHash[:]):
		return nil, fmt.Errorf("%w: store has %x, genesis file has %s", ErrWrongGenesis, stored, l.gHash)
	}
	raw, err := db.Get(metaHead)
	if err != nil {
		return nil, fmt.Errorf("%w: no head record: %v", ErrCorrupt, err)
	}
	if l.head, err = decodeHead(raw); err != nil {
		return nil, err
	}
	if err := l.checkHeadBlock(); err != nil {
		return nil, err
	}
	err = db.Iterate([]byte{pState}, []byte{pState + 1}, func(k, v []byte) error {
		l.tree.Set(smt.HashKey(k[1:]), smt.HashValue(v))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ledger: load state: %w", err)
	}
	if root := chain.Hash(l.tree.Root()); root != l.head.StateRoot {
		return nil, fmt.Errorf("%w: state root %s does not match head %d's %s", ErrCorrupt, root, l.head.Height, l.head.StateRoot)
	}
	if err := l.rules.Follow(stateReader{db: l.db}); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return l, nil
}

func (l *Ledger) initGenesis() error {
	st := chain.NewState(stateReader{db: l.db}, l.RulesAt(0), 0, l.genesis.GenesisTime)
	if err := l.genesis.InitState(st); err != nil {
		return err
	}
	batch := l.db.NewBatch()
	defer batch.Close()
	for _, c := range st.Changes() {
		l.tree.Set(smt.HashKey(c.Key), smt.HashValue(c.Value))
		batch.Set(stateKey(c.Key), c.Value)
	}
	l.head = Head{Height: 0, Hash: l.gHash, Time: l.genesis.GenesisTime, StateRoot: chain.Hash(l.tree.Root())}
	batch.Set(metaHead, l.head.encode())
	batch.Set(metaGenesis, l.gHash[:])
	if err := batch.Commit(true); err != nil {
		return fmt.Errorf("ledger: write genesis: %w", err)
	}
	return nil
}

// Genesis is the chain's genesis.
func (l *Ledger) Genesis() *chain.Genesis { return l.genesis }

// RulesAt answers which consensus rules are in force at height: the protocol version, the
// limits and the validator set that certifies the block at that height. Every part of the
// node that needs them (execution here, block sync, consensus, the p2p allow-list) asks this
// rather than reading genesis, and re-executing the chain applies each height's own rules.
// The validator changes the chain decides (Version3) join the schedule as their blocks
// commit, ActivationDelay blocks before they take effect (ADR 0003).
func (l *Ledger) RulesAt(height uint64) *chain.Rules { return l.rules.At(height) }

// Activations are the changes of rules after genesis, oldest first: the validator-set
// changes the chain decided, including those not in force yet.
func (l *Ledger) Activations() []chain.Activation { return l.rules.Activations() }

// Signer verifies and signs transactions of this chain.
func (l *Ledger) Signer() *chain.Signer { return l.signer }

// Head is the last committed block. It never waits for a block's execution, only for the
// store write that commits it: what a read found in the store (a transaction's location, a
// balance) is never newer than the Head read after it.
func (l *Ledger) Head() Head {
	l.publishing.RLock()
	defer l.publishing.RUnlock()
	return l.head
}

// stateReader reads committed state keys through the cache (if any) from the store, as
// chain.StateReader: an absent key is a nil value, not an error.
type stateReader struct {
	db    store.Reader
	cache *stateCache
}

var _ chain.StateReader = stateReader{}

func (r stateReader) Get(k []byte) ([]byte, error) {
	if r.cache != nil {
		if v, ok := r.cache.get(k); ok {
			return v, nil
		}
	}
	v, err := r.db.Get(stateKey(k))
	if errors.Is(err, store.ErrNotFound) {
		v, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	if r.cache != nil {
		r.cache.put(k, v)
	}
	return v, nil
}

// GetState reads a committed state record by its chain state key.
func (l *Ledger) GetState(key []byte) ([]byte, error) { return l.db.Get(stateKey(key)) }

// executed is the result of executing a block's transactions against the head state.
type executed struct {
	Changes   []chain.Change
	Entries   [][]chain.Entry // per transaction
	StateRoot chain.Hash
	undo      []undo
}

type undo struct {
	key     chain.Hash
	old     chain.Hash
	present bool
}

// execute runs txs (with their recovered senders) on top of the head state at height and
// time. With skipFailing it drops failing transactions (proposer); otherwise the first
// failure is returned (a block holding a failing transaction is invalid). The tree is
// updated to the new root; the caller must commit or l.revert(exec).
//
// alongside, if not nil, runs in a goroutine of its own while the tree is updated, once the
// transactions have executed; it may read ex's changes and entries, nothing else of ex.
// ApplyBlock builds the store batch there: it needs the changes, not the root, and the two
// take comparable time (BENCHMARKS.md), so a node with a spare core commits the block
// that much sooner. Neither depends on the other's timing.
func (l *Ledger) execute(height, time uint64, txs []*chain.Tx, senders []chain.Address, skipFailing bool, alongside func(*executed)) (*executed, []*chain.Tx, []error, error) {
	st := chain.NewState(stateReader{l.db, l.cache}, l.RulesAt(height), height, time)
	var err error
	if l.expiry.known {
		err = st.BeginBlockAfter(l.expiry.day)
	} else {
		err = st.BeginBlock()
	}
	if err != nil {
		return nil, nil, nil, err
	}
	ex := &executed{Entries: make([][]chain.Entry, 0, len(txs))}
	kept := txs[:0:0]
	var rejected []error
	for i, tx := range txs {
		entries, err := st.ApplyTx(tx, senders[i])
		if err != nil {
			if st.Err() != nil {
				return nil, nil, nil, st.Err()
			}
			if !skipFailing {
				return nil, nil, nil, fmt.Errorf("tx %d (%s): %w", i, tx.Hash(), err)
			}
			rejected = append(rejected, &RejectedTx{Tx: tx, Err: err})
			continue
		}
		kept = append(kept, tx)
		ex.Entries = append(ex.Entries, entries)
	}
	ex.Changes = st.Changes()
	var wg sync.WaitGroup
	if alongside != nil {
		wg.Go(func() { alongside(ex) })
	}
	l.updateTree(ex)
	wg.Wait()
	return ex, kept, rejected, nil
}

// updateTree applies ex's changes to the tree, recording how to undo them, and sets
// ex.StateRoot.
//
// It applies them in key-hash order, not in key order: consecutive updates then share the
// upper part of their paths and walk the tree's node arrays (laid out depth-first, see
// chain/smt) forwards, instead of missing the CPU cache at every level. The tree is
// history-independent, so the order changes no hash. The undo records keep that order, so
// that revert walks the tree in order too.
func (l *Ledger) updateTree(ex *executed) {
	n := len(ex.Changes)
	keys := make([]chain.Hash, n)
	values := make([]chain.Hash, n)
	for i, c := range ex.Changes {
		keys[i] = smt.HashKey(c.Key)
		if c.Value != nil {
			values[i] = smt.HashValue(c.Value)
		}
	}
	order := keysort.Sort(nil, n, func(i int) []byte { return keys[i][:] })
	ex.undo = make([]undo, n)
	for k, r := range order {
		u := undo{key: keys[r.Index]}
		if ex.Changes[r.Index].Value == nil {
			u.old, u.present = l.tree.Delete(u.key)
		} else {
			u.old, u.present = l.tree.Set(u.key, values[r.Index])
		}
		ex.undo[k] = u
	}
	ex.StateRoot = l.tree.Root()
}

// settle reverts the speculative block, if any, so the tree holds the head's state again.
func (l *Ledger) settle() {
	if l.spec != nil {
		l.revert(l.spec.ex)
		l.spec = nil
	}
}

// speculate keeps an executed block in the tree for the commit that usually follows.
func (l *Ledger) speculate(blk *chain.Block, ex *executed, verified bool) {
	l.spec = &speculation{
		block: blk.Header.Hash(), parent: blk.Header.PrevHash, txs: slices.Clone(blk.Txs), ex: ex, verified: verified,
	}
}

// speculated returns the speculation if it is blk on top of the head, else nil. It compares
// the header's hash computed afresh (Block.Hash is cached, and a caller may have changed the
// block since) and the transactions one by one.
func (l *Ledger) speculated(blk *chain.Block) *speculation {
	sp := l.spec
	if sp == nil || sp.parent != l.head.Hash || !slices.Equal(sp.txs, blk.Txs) || blk.Header.Hash() != sp.block {
		return nil
	}
	return sp
}

// checkSpeculated checks the header of a speculated block once.
func (l *Ledger) checkSpeculated(sp *speculation, blk *chain.Block) error {
	if sp.verified {
		return nil
	}
	if err := l.checkHeader(blk); err != nil {
		return err
	}
	sp.verified = true
	return nil
}

// revert undoes execute's tree updates (the tree is history-independent, so restoring the old
// pairs restores the old root exactly).
func (l *Ledger) revert(ex *executed) {
	for i := len(ex.undo) - 1; i >= 0; i-- {
		u := ex.undo[i]
		if u.present {
			l.tree.Set(u.key, u.old)
		} else {
			l.tree.Delete(u.key)
		}
	}
	l.tree.Root()
}

// BuildBlock makes the next block from candidate transactions (senders already recovered),
// keeping those that apply, in order, up to the limits in force at its height. It returns the block and
// the rejected transactions with their reasons. Nothing is committed; the block stays
// executed in memory, so committing it next does not execute it again.
func (l *Ledger) BuildBlock(time uint64, proposer chain.Address, txs []*chain.Tx, senders []chain.Address, lastCommit *chain.Commit) (*chain.Block, []error, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if time <= l.head.Time {
		return nil, nil, fmt.Errorf("%w: time %d not after the previous block's %d", chain.ErrBadBlock, time, l.head.Time)
	}
	if time > chain.MaxBlockTime {
		return nil, nil, fmt.Errorf("%w: time %d past the last block time %d", chain.ErrBadBlock, time, chain.MaxBlockTime)
	}
	if len(senders) != len(txs) {
		return nil, nil, fmt.Errorf("ledger: %d senders for %d transactions", len(senders), len(txs))
	}
	rules := l.RulesAt(l.head.Height + 1)
	txs, senders = fitRoom(rules.Params, lastCommit, txs, senders) // a caller's mistake, not the block's
	l.settle()
	ex, kept, rejected, err := l.execute(l.head.Height+1, time, txs, senders, true, nil)
	if err != nil {
		return nil, nil, err
	}
	blk := &chain.Block{
		Header: chain.Header{
			ChainID: rules.ChainID, Height: l.head.Height + 1, Time: time, PrevHash: l.head.Hash,
			StateRoot: ex.StateRoot, Proposer: proposer,
			NextValidators: chain.NextValidatorsHash(l.rules, l.head.Height+1),
		},
		Txs: kept, LastCommit: lastCommit,
	}
	blk.Header.TxRoot = blk.ComputeTxRoot() // remembered: committing this block checks it again
	if lastCommit != nil {
		blk.Header.LastCommitHash = lastCommit.Hash()
	}
	l.speculate(blk, ex, false)
	return blk, rejected, nil
}

// RecoverSenders recovers and checks every transaction's sender.
func (l *Ledger) RecoverSenders(txs []*chain.Tx) ([]chain.Address, error) {
	senders := make([]chain.Address, len(txs))
	for i, tx := range txs {
		a, err := l.signer.Sender(tx)
		if err != nil {
			return nil, fmt.Errorf("tx %d (%s): %w", i, tx.Hash(), err)
		}
		senders[i] = a
	}
	return senders, nil
}

// ApplyBlock verifies and commits the next block. commit, if given, is this node's
// certificate for blk (the canonical copy arrives inside the next block). It recovers every
// sender; use ApplyBlockWithSenders when they are known.
func (l *Ledger) ApplyBlock(blk *chain.Block, commit *chain.Commit) error {
	senders, err := l.RecoverSenders(blk.Txs)
	if err != nil {
		return fmt.Errorf("%w: %v", chain.ErrBadBlock, err)
	}
	return l.ApplyBlockWithSenders(blk, senders, commit)
}

// ApplyBlockWithSenders is ApplyBlock with the senders already recovered (by the mempool on
// admission), so signatures are not recovered twice.
func (l *Ledger) ApplyBlockWithSenders(blk *chain.Block, senders []chain.Address, commit *chain.Commit) error {
	if len(senders) != len(blk.Txs) {
		return fmt.Errorf("ledger: %d senders for %d transactions", len(senders), len(blk.Txs))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if commit != nil {
		rules := l.RulesAt(blk.Header.Height)
		if err := chain.VerifyCommit(rules.ChainID, rules.Validators, blk.Header.Height, blk.Hash(), commit); err != nil {
			return err
		}
	}
	var (
		ex    *executed
		batch store.Batch
	)
	if sp := l.speculated(blk); sp != nil { // built or verified here already
		if err := l.checkSpeculated(sp, blk); err != nil {
			return err
		}
		ex, l.spec = sp.ex, nil
		batch = l.buildBatch(blk, ex, commit)
	} else {
		l.settle()
		var err error
		build := func(ex *executed) { batch = l.buildBatch(blk, ex, commit) }
		if ex, err = l.executeBlock(blk, senders, build); err != nil {
			if batch != nil { // built for a block that turned out invalid
				batch.Close()
			}
			return err
		}
	}
	defer batch.Close()
	h := &blk.Header
	l.publishing.Lock()
	defer l.publishing.Unlock()
	if err := l.write(blk, batch, ex); err != nil {
		l.revert(ex)
		l.cache = newStateCache(stateCacheBytes) // the store's state is unknown: start cold
		l.expiry = expiryMemo{}
		return err
	}
	parent := l.head.Hash
	head := Head{Height: h.Height, Hash: blk.Hash(), Time: h.Time, StateRoot: h.StateRoot}
	l.admit.advance(parent, head, ex.Changes)
	l.head = head // under mu and publishing
	l.expiry = expiryMemo{day: chain.DayOf(h.Time), known: true}
	// The validator changes this block decided join the schedule before anything asks for
	// the rules of the heights they govern (ActivationDelay keeps them ahead of the head).
	if err := l.rules.Follow(stateReader{db: l.db}); err != nil {
		return fmt.Errorf("ledger: block %d committed, its validator changes unread: %w", h.Height, err)
	}
	return nil
}

// VerifyBlock tells whether blk is a valid next block — header, parent certificate, every
// transaction, the state root — without committing it (a validator checks a proposal before
// prevoting for it). senders are the recovered senders of blk.Txs. A valid block stays
// executed in memory, so committing it next does not execute it again.
func (l *Ledger) VerifyBlock(blk *chain.Block, senders []chain.Address) error {
	if len(senders) != len(blk.Txs) {
		return fmt.Errorf("ledger: %d senders for %d transactions", len(senders), len(blk.Txs))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if sp := l.speculated(blk); sp != nil { // executed already
		return l.checkSpeculated(sp, blk)
	}
	l.settle()
	ex, err := l.executeBlock(blk, senders, nil)
	if err != nil {
		return err
	}
	l.speculate(blk, ex, true)
	return nil
}

// executeBlock checks blk's header and executes it on top of the head, leaving the state
// tree updated (revert undoes it); a block that does not check out changes nothing.
// alongside is passed to execute.
func (l *Ledger) executeBlock(blk *chain.Block, senders []chain.Address, alongside func(*executed)) (*executed, error) {
	if err := l.checkHeader(blk); err != nil {
		return nil, err
	}
	h := &blk.Header
	ex, _, _, err := l.execute(h.Height, h.Time, blk.Txs, senders, false, alongside)
	if err != nil {
		if errors.Is(err, store.ErrClosed) || chain.Code(err) == "internal" {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", chain.ErrBadBlock, err)
	}
	if ex.StateRoot != h.StateRoot {
		l.revert(ex)
		return nil, fmt.Errorf("%w: state root %s, block says %s", chain.ErrBadBlock, ex.StateRoot, h.StateRoot)
	}
	return ex, nil
}

func (l *Ledger) checkHeader(blk *chain.Block) error {
	parent := chain.Parent{Height: l.head.Height, Hash: l.head.Hash, Time: l.head.Time}
	return chain.CheckNext(parent, blk, l.rules)
}

package chain

import (
	"fmt"
	"slices"

	"github.com/loyal-ledger/loyal/internal/keysort"
)

// accounts are the accounts a block has loaded, kept decoded for the whole block and encoded
// once in Changes: a block of transfers touches each account record several times. An
// account's entry holds the decoded record, its dirty flag and the running transaction's
// rollback copy, so touching an account is one map lookup; entries live in one slice, in
// load order, which Changes walks instead of the map.
type accounts struct {
	index   map[Address]int32 // into loaded
	loaded  []accountEntry
	touched []int32 // the entries the running transaction touched, for rollback
	txSeq   uint64  // numbers transactions, so an entry can tell whether the running one touched it
	txFirst int32   // len(loaded) when the running transaction began: later entries are its loads
	keyBuf  []byte  // scratch for reading an account key (base does not retain its arguments)
}

// accountEntry is an account loaded by the block.
type accountEntry struct {
	addr  Address
	acc   *Account
	dirty bool // acc differs from the committed record: Changes writes it
	// The account before the running transaction first touched it, for rollback; valid while
	// tx is the running transaction's number and the entry was loaded before it.
	tx          uint64
	before      *Account
	dirtyBefore bool
}

func (as *accounts) begin() {
	as.touched = as.touched[:0]
	as.txFirst = int32(len(as.loaded))
	as.txSeq++
}

func (as *accounts) commit() {
	for _, i := range as.touched {
		as.loaded[i].before = nil // not needed any more: let it be collected
	}
	as.touched = as.touched[:0]
}

// rollback restores the accounts as they were before the running transaction and forgets
// those it loaded (a later transaction reads them again, with the same result).
func (as *accounts) rollback() {
	for _, i := range as.touched {
		e := &as.loaded[i]
		if i >= as.txFirst {
			delete(as.index, e.addr)
			continue
		}
		e.acc, e.dirty, e.before = e.before, e.dirtyBefore, nil
	}
	clear(as.loaded[as.txFirst:])
	as.loaded = as.loaded[:as.txFirst]
	as.touched = as.touched[:0]
}

// account returns the decoded account of a (empty if it has none). A storage or decoding
// failure is recorded in Err and an empty account returned.
func (s *State) account(a Address) *Account { return s.entry(a).acc }

// entry returns a's entry, loading the account on first use and keeping a copy for rollback
// on the running transaction's first touch. The pointer is valid until the next account is
// loaded.
func (s *State) entry(a Address) *accountEntry {
	as := &s.accts
	i, loaded := as.index[a]
	if !loaded {
		i = int32(len(as.loaded))
		if len(as.loaded) == cap(as.loaded) {
			// Double: append grows large slices by a quarter at a time, which for a
			// block's 20,000 entries copies five times as many. Start small: a
			// transaction checked alone (admission) loads two or three accounts.
			as.loaded = slices.Grow(as.loaded, max(len(as.loaded), 4))
		}
		as.loaded = append(as.loaded, accountEntry{addr: a, acc: s.loadAccount(a)})
		as.index[a] = i
	}
	e := &as.loaded[i]
	if s.inTx && e.tx != as.txSeq {
		e.tx, e.dirtyBefore, e.before = as.txSeq, e.dirty, nil
		if loaded {
			e.before = e.acc.clone()
		}
		as.touched = append(as.touched, i)
	}
	return e
}

// loadAccount reads and decodes a's committed record (empty if it has none). It reads base
// directly, past the write layers and the reads memo: account records are written only
// through Changes, never with set, and a loaded account stays loaded for the block.
func (s *State) loadAccount(a Address) *Account {
	as := &s.accts
	as.keyBuf = append(append(as.keyBuf[:0], nsAccount), a[:]...)
	v, err := s.base.Get(as.keyBuf)
	if err != nil {
		if s.err == nil {
			s.err = fmt.Errorf("chain: read state: %w", err)
		}
		return &Account{}
	}
	if v == nil {
		return &Account{}
	}
	acc, err := DecodeAccount(v)
	if err != nil {
		if s.err == nil {
			s.err = fmt.Errorf("chain: account %s: %w", a, err)
		}
		return &Account{}
	}
	return acc
}

// appendChanges appends the writes of the dirty accounts to out, sorted by key. The accounts
// are encoded in load order, roughly the order of their memory, and sorted afterwards:
// encoding them in key order missed the CPU cache on every account.
func (as *accounts) appendChanges(out []Change) []Change {
	changes := make([]Change, 0, len(as.loaded))
	keys := make([]byte, 0, len(as.loaded)*(1+len(Address{}))) // one allocation for every account key
	for i := range as.loaded {
		e := &as.loaded[i]
		if !e.dirty {
			continue
		}
		keys = append(append(keys, nsAccount), e.addr[:]...)
		c := Change{Key: keys[len(keys)-1-len(e.addr) : len(keys) : len(keys)]} // capped: appending to a key cannot overwrite the next
		if !e.acc.empty() {
			c.Value = e.acc.Encode()
		}
		changes = append(changes, c)
	}
	for _, r := range keysort.Sort(nil, len(changes), func(i int) []byte { return changes[i].Key }) {
		out = append(out, changes[r.Index])
	}
	return out
}

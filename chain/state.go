package chain

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
)

// State keys. Every key starts with a one-byte namespace; variable-length parts are either
// last or length-prefixed, so no two records can share a key.
const (
	nsAccount  = 'a' // address → Account (nonce and every program's balance)
	nsProgram  = 'p' // symbol → Program
	nsPrograms = 'l' // the list of all symbols, sorted
	nsOrder    = 'o' // len ‖ symbol ‖ order ref → Order
	nsRoute    = 'r' // len ‖ from ‖ to → Route
	nsPosition = 'd' // len ‖ debtor ‖ creditor → Position
	nsExpiry   = 'x' // len ‖ symbol ‖ day → points of the program expiring at the start of day
	nsPartner  = 'P' // address → partner name
)

// The state keys other packages need: an account's (what an account proof proves, so a
// verifier ties the proof to the address), the program and order records the ledger
// reads, and the settlement positions the auditor's report follows. The rest of the layout is this package's own; ForEachProgram, ForEachRoute and
// ForEachPosition decode it for readers.

// AccountKey is the state key of an account; account proofs prove it.
func AccountKey(a Address) []byte { return append([]byte{nsAccount}, a[:]...) }

// ProgramKey is the state key of a program.
func ProgramKey(symbol string) []byte { return append([]byte{nsProgram}, symbol...) }

// programListKey is the state key of the sorted list of all program symbols.
func programListKey() []byte { return []byte{nsPrograms} }

// OrderKey is the state key of an earn credit's order record.
func OrderKey(symbol, ref string) []byte { return pairKey(nsOrder, symbol, ref) }

// routeKey is the state key of the exchange route from → to.
func routeKey(from, to string) []byte { return pairKey(nsRoute, from, to) }

// PositionKey is the state key of the settlement position debtor → creditor: what debtor's
// owner owes creditor's owner. A reader that follows exchanges and settlements block by block
// reads the positions they touched by it, without scanning the state.
func PositionKey(debtor, creditor string) []byte { return pairKey(nsPosition, debtor, creditor) }

// partnerKey is the state key of a partner.
func partnerKey(a Address) []byte { return append([]byte{nsPartner}, a[:]...) }

func expiryKey(symbol string, day Day) []byte {
	return binary.BigEndian.AppendUint32(pairKey(nsExpiry, symbol, ""), day)
}

// splitPairKey returns the two symbols of a route or position key.
func splitPairKey(k []byte) (first, second string, ok bool) {
	if len(k) < 2 || int(k[1]) > len(k)-2 {
		return "", "", false
	}
	n := int(k[1])
	return string(k[2 : 2+n]), string(k[2+n:]), true
}

func pairKey(ns byte, first, second string) []byte {
	k := make([]byte, 0, 2+len(first)+len(second))
	k = append(k, ns, byte(len(first)))
	k = append(k, first...)
	return append(k, second...)
}

// StateReader is what executing a block needs of the committed state: one lookup by state
// key. Get returns the value stored under key, or a nil value and a nil error if the key is
// absent (a present empty value is a non-nil empty slice); an error is a storage failure,
// which fails the block, never a rejection of a transaction. The ledger implements it over
// its store and cache; a test may use a map.
type StateReader interface {
	Get(key []byte) ([]byte, error)
}

// State is the ledger state during the execution of one block: a write overlay over the
// committed state. Transactions apply all-or-nothing: each runs in its own layer that is
// merged into the block's layer only if it succeeds. State is pure (no clock, no I/O beyond
// reading the committed state) and not safe for concurrent use.
type State struct {
	base       StateReader
	chainID    uint64
	genesis    Hash
	version    Version
	params     Params
	governance GovernanceParams
	height     uint64
	time       uint64
	today      Day

	block map[string][]byte // this block's writes; a nil value is a deletion
	accts accounts          // the accounts the block loaded, decoded (state_accounts.go)
	reads map[string][]byte // committed values read so far (nil = absent): each key hits the store once
	tx    map[string][]byte // the running transaction's writes
	inTx  bool
	err   error // first read error from base: a storage failure, never a rejection
}

// NewState starts executing block height at block time over committed state base, under the
// rules in force at that height (Schedule.At): its chain id, version and limits.
func NewState(base StateReader, rules *Rules, height, time uint64) *State {
	return &State{
		base: base, chainID: rules.ChainID, genesis: rules.Genesis, version: rules.Version, params: rules.Params, governance: rules.Governance,
		height: height, time: time, today: DayOf(time),
		block: make(map[string][]byte),
		accts: accounts{index: make(map[Address]int32)},
		reads: make(map[string][]byte),
		tx:    make(map[string][]byte),
	}
}

// domain is the chain's EIP-712 domain: proofs of possession are checked under it.
func (s *State) domain() Domain { return Domain{ChainID: s.chainID, Salt: s.genesis} }

// Version is the protocol version the block executes under.
func (s *State) Version() Version { return s.version }

// Height is the height of the block being executed.
func (s *State) Height() uint64 { return s.height }

// Time is the block time being executed.
func (s *State) Time() uint64 { return s.time }

// get reads a key through the layers; ok is false if absent.
func (s *State) get(key []byte) ([]byte, bool) {
	if s.inTx {
		if v, ok := s.tx[string(key)]; ok {
			return v, v != nil
		}
	}
	if v, ok := s.block[string(key)]; ok {
		return v, v != nil
	}
	if v, ok := s.reads[string(key)]; ok {
		return v, v != nil
	}
	v, err := s.base.Get(key)
	if err != nil {
		if s.err == nil {
			s.err = fmt.Errorf("chain: read state: %w", err)
		}
		return nil, false
	}
	s.reads[string(key)] = v
	return v, v != nil
}

func (s *State) set(key, value []byte) {
	if len(key) > 0 && key[0] == nsAccount {
		// Accounts are written through their entries (state_accounts.go); Changes and
		// loadAccount rely on account keys never being in these layers.
		panic("chain: account record written with set")
	}
	if s.inTx {
		s.tx[string(key)] = value
	} else {
		s.block[string(key)] = value
	}
}

func (s *State) del(key []byte) { s.set(key, nil) }

func (s *State) begin() {
	clear(s.tx)
	s.accts.begin()
	s.inTx = true
}

func (s *State) commitTx() {
	for k, v := range s.tx {
		s.block[k] = v
	}
	clear(s.tx)
	s.accts.commit()
	s.inTx = false
}

func (s *State) rollbackTx() {
	s.accts.rollback()
	clear(s.tx)
	s.inTx = false
}

// Change is one state write of a block: Value nil means the key was deleted.
type Change struct {
	Key   []byte
	Value []byte
}

// Changes returns the block's writes sorted by key, so callers iterate deterministically.
// Outside a transaction it may be called any number of times and changes nothing.
func (s *State) Changes() []Change {
	others := make([]Change, 0, len(s.block))
	for k, v := range s.block {
		others = append(others, Change{Key: []byte(k), Value: v})
	}
	slices.SortFunc(others, func(x, y Change) int { return bytes.Compare(x.Key, y.Key) })
	// Account keys are the only keys of their namespace and are never in s.block (see
	// loadAccount), so they go between the block's keys below the namespace and those above.
	above, _ := slices.BinarySearchFunc(others, []byte{nsAccount}, func(c Change, ns []byte) int { return bytes.Compare(c.Key, ns) })
	out := make([]Change, 0, len(others)+len(s.accts.loaded))
	out = append(out, others[:above]...)
	out = s.accts.appendChanges(out)
	return append(out, others[above:]...)
}

// Err is the first storage error met while reading committed state; a block executed with a
// storage error must be discarded.
func (s *State) Err() error { return s.err }

// Typed accessors.

func (s *State) nonce(a Address) uint64 { return s.account(a).Nonce }

func (s *State) setNonce(a Address, n uint64) {
	e := s.entry(a)
	e.acc.Nonce = n
	e.dirty = true
}

func (s *State) program(symbol string) (*Program, error) {
	v, ok := s.get(ProgramKey(symbol))
	if !ok {
		return nil, rejectf(ErrUnknownProgram, "%s", symbol)
	}
	return DecodeProgram(v)
}

func (s *State) putProgram(p *Program) { s.set(ProgramKey(p.Symbol), p.encode()) }

func (s *State) programList() []string {
	v, ok := s.get(programListKey())
	if !ok {
		return nil
	}
	d := newDecoder(v)
	n := d.Count(1<<24, 3)
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, d.Str(MaxSymbolLen))
	}
	return out
}

func (s *State) putProgramList(list []string) {
	e := encoder{}
	e.U32(uint32(len(list)))
	for _, sym := range list {
		e.Str(sym)
	}
	s.set(programListKey(), e.Buf)
}

// balance returns a copy of a's balance in a program, to be written back with putBalance.
// Balances are passed by value so that a transaction's working copies stay on the stack.
func (s *State) balance(a Address, symbol string) (Balance, error) {
	if b := s.account(a).Balance(symbol); b != nil {
		return *b, s.err
	}
	return Balance{}, s.err
}

func (s *State) putBalance(a Address, symbol string, b *Balance) {
	e := s.entry(a)
	*e.acc.holding(symbol) = *b
	e.acc.prune()
	e.dirty = true
}

func (s *State) order(symbol, ref string) (*Order, bool, error) {
	v, ok := s.get(OrderKey(symbol, ref))
	if !ok {
		return nil, false, nil
	}
	o, err := DecodeOrder(v)
	return o, err == nil, err
}

func (s *State) route(from, to string) (*Route, error) {
	v, ok := s.get(routeKey(from, to))
	if !ok {
		return &Route{}, nil
	}
	return DecodeRoute(v)
}

func (s *State) position(debtor, creditor string) (*Position, error) {
	v, ok := s.get(PositionKey(debtor, creditor))
	if !ok {
		return &Position{}, nil
	}
	return DecodePosition(v)
}

func (s *State) expiring(symbol string, day Day) uint64 {
	v, ok := s.get(expiryKey(symbol, day))
	if !ok || len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// scheduleExpiry adds (or with a negative sign, removes) points from a program's expiry
// schedule, the per-day totals that let a block count expired points without scanning
// accounts.
func (s *State) scheduleExpiry(symbol string, day Day, add, sub uint64) {
	if day == NeverExpires || add == sub {
		return
	}
	cur := s.expiring(symbol, day)
	next := cur + add - sub
	if next == 0 {
		s.del(expiryKey(symbol, day))
		return
	}
	s.set(expiryKey(symbol, day), binary.BigEndian.AppendUint64(nil, next))
}

func (s *State) isPartner(a Address) bool {
	_, ok := s.get(partnerKey(a))
	return ok
}

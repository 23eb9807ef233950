package chain

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/loyal-ledger/loyal/chain/store"
)

// State keys. Every key starts with a one-byte namespace; variable-length parts are either
// last or length-prefixed, so no two records can share a key.
const (
	nsAccount  = 'a' // address → nonce
	nsBalance  = 'b' // address ‖ symbol → Balance
	nsProgram  = 'p' // symbol → Program
	nsPrograms = 'l' // the list of all symbols, sorted
	nsOrder    = 'o' // len ‖ symbol ‖ order ref → Order
	nsRoute    = 'r' // len ‖ from ‖ to → Route
	nsPosition = 'd' // len ‖ debtor ‖ creditor → Position
	nsExpiry   = 'x' // len ‖ symbol ‖ day → points of the program expiring at the start of day
	nsPartner  = 'P' // address → partner name
)

// AccountKey is the state key of an account's nonce.
func AccountKey(a Address) []byte { return append([]byte{nsAccount}, a[:]...) }

// BalanceKey is the state key of an account's balance in a program; account proofs prove it.
func BalanceKey(a Address, symbol string) []byte {
	k := make([]byte, 0, 1+20+len(symbol))
	k = append(k, nsBalance)
	k = append(k, a[:]...)
	return append(k, symbol...)
}

// ProgramKey is the state key of a program.
func ProgramKey(symbol string) []byte { return append([]byte{nsProgram}, symbol...) }

// ProgramListKey is the state key of the sorted list of all program symbols.
func ProgramListKey() []byte { return []byte{nsPrograms} }

// OrderKey is the state key of an earn credit's order record.
func OrderKey(symbol, ref string) []byte { return pairKey(nsOrder, symbol, ref) }

// RouteKey is the state key of the exchange route from → to.
func RouteKey(from, to string) []byte { return pairKey(nsRoute, from, to) }

// PositionKey is the state key of what debtor's owner owes creditor's owner.
func PositionKey(debtor, creditor string) []byte { return pairKey(nsPosition, debtor, creditor) }

// PartnerKey is the state key of a partner.
func PartnerKey(a Address) []byte { return append([]byte{nsPartner}, a[:]...) }

func expiryKey(symbol string, day Day) []byte {
	return binary.BigEndian.AppendUint32(pairKey(nsExpiry, symbol, ""), day)
}

func pairKey(ns byte, first, second string) []byte {
	k := make([]byte, 0, 2+len(first)+len(second))
	k = append(k, ns, byte(len(first)))
	k = append(k, first...)
	return append(k, second...)
}

// State is the ledger state during the execution of one block: a write overlay over the
// committed state. Transactions apply all-or-nothing: each runs in its own layer that is
// merged into the block's layer only if it succeeds. State is pure (no clock, no I/O beyond
// reading the committed state) and not safe for concurrent use.
type State struct {
	base    store.Reader
	chainID uint64
	params  Params
	height  uint64
	time    uint64
	today   Day

	block map[string][]byte // this block's writes; a nil value is a deletion
	reads map[string][]byte // committed values read so far (nil = absent): each key hits the store once
	tx    map[string][]byte // the running transaction's writes
	inTx  bool
	err   error // first read error from base: a storage failure, never a rejection
}

// NewState starts executing block height at block time over committed state base, for the
// chain chainID with the genesis limits params.
func NewState(base store.Reader, chainID uint64, params Params, height, time uint64) *State {
	return &State{
		base: base, chainID: chainID, params: params, height: height, time: time, today: DayOf(time),
		block: make(map[string][]byte),
		reads: make(map[string][]byte),
		tx:    make(map[string][]byte),
	}
}

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
		if !errors.Is(err, store.ErrNotFound) {
			if s.err == nil {
				s.err = fmt.Errorf("chain: read state: %w", err)
			}
			return nil, false
		}
		v = nil
	}
	s.reads[string(key)] = v
	return v, v != nil
}

func (s *State) set(key, value []byte) {
	if s.inTx {
		s.tx[string(key)] = value
	} else {
		s.block[string(key)] = value
	}
}

func (s *State) del(key []byte) { s.set(key, nil) }

func (s *State) begin() {
	clear(s.tx)
	s.inTx = true
}

func (s *State) commitTx() {
	for k, v := range s.tx {
		s.block[k] = v
	}
	clear(s.tx)
	s.inTx = false
}

func (s *State) rollbackTx() {
	clear(s.tx)
	s.inTx = false
}

// Change is one state write of a block: Value nil means the key was deleted.
type Change struct {
	Key   []byte
	Value []byte
}

// Changes returns the block's writes sorted by key, so callers iterate deterministically.
func (s *State) Changes() []Change {
	keys := make([]string, 0, len(s.block))
	for k := range s.block {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]Change, len(keys))
	for i, k := range keys {
		out[i] = Change{Key: []byte(k), Value: s.block[k]}
	}
	return out
}

// Err is the first storage error met while reading committed state; a block executed with a
// storage error must be discarded.
func (s *State) Err() error { return s.err }

// Typed accessors.

func (s *State) nonce(a Address) uint64 {
	v, ok := s.get(AccountKey(a))
	if !ok || len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func (s *State) setNonce(a Address, n uint64) {
	s.set(AccountKey(a), binary.BigEndian.AppendUint64(nil, n))
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
	v, ok := s.get(ProgramListKey())
	if !ok {
		return nil
	}
	d := decoder{buf: v}
	n := d.count(1<<24, 3)
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, d.str(MaxSymbolLen))
	}
	return out
}

func (s *State) putProgramList(list []string) {
	e := encoder{}
	e.u32(uint32(len(list)))
	for _, sym := range list {
		e.str(sym)
	}
	s.set(ProgramListKey(), e.buf)
}

func (s *State) balance(a Address, symbol string) (*Balance, error) {
	v, ok := s.get(BalanceKey(a, symbol))
	if !ok {
		return &Balance{}, nil
	}
	return DecodeBalance(v)
}

func (s *State) putBalance(a Address, symbol string, b *Balance) {
	if len(b.Lots) == 0 && b.Earned == 0 && len(b.EarnedDays) == 0 {
		s.del(BalanceKey(a, symbol))
		return
	}
	s.set(BalanceKey(a, symbol), b.encode())
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
	v, ok := s.get(RouteKey(from, to))
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
	_, ok := s.get(PartnerKey(a))
	return ok
}

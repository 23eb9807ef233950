package chain_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"pgregory.net/rapid"

	"github.com/loyal-ledger/loyal/chain"
)

// This file is a ledger-in-a-map for driving the state transition directly: no signatures,
// the sender is handed to ApplyTx. A block is a NewState over the committed map, BeginBlock,
// some transactions, and its Changes applied back to the map.

const testChainID uint64 = 4242

// day0 is the UTC day of the genesis; tests run in the days after it.
const day0 chain.Day = 20_000

// dayStart is the first second of UTC day d.
func dayStart(d chain.Day) uint64 { return uint64(d) * chain.SecondsPerDay }

// at is second secs of UTC day d.
func at(d chain.Day, secs uint64) uint64 { return dayStart(d) + secs }

// actor is a deterministic address for a name.
func actor(name string) chain.Address {
	return common.BytesToAddress(crypto.Keccak256([]byte("loyal state test " + name))[12:])
}

// who are the usual actors: three partners (acme and bolt own programs in most tests, cafe
// is a partner without one), operators, customers and a stranger.
var who = struct {
	acme, bolt, cafe, acmeOp, boltOp, alice, bob, carol, mallory chain.Address
}{
	acme: actor("acme"), bolt: actor("bolt"), cafe: actor("cafe"),
	acmeOp: actor("acme-op"), boltOp: actor("bolt-op"),
	alice: actor("alice"), bob: actor("bob"), carol: actor("carol"), mallory: actor("mallory"),
}

// memReader is a committed state: a map implementing chain.StateReader.
type memReader map[string][]byte

var _ chain.StateReader = memReader(nil)

func (m memReader) Get(key []byte) ([]byte, error) {
	v, ok := m[string(key)]
	if !ok {
		return nil, nil
	}
	return append([]byte{}, v...), nil
}

// apply writes a block's changes (nil value = delete).
func (m memReader) apply(changes []chain.Change) {
	for _, c := range changes {
		if c.Value == nil {
			delete(m, string(c.Key))
		} else {
			m[string(c.Key)] = append([]byte{}, c.Value...)
		}
	}
}

// overlay is m with changes applied, m left as is: the view of a block in progress.
func (m memReader) overlay(changes []chain.Change) memReader {
	out := make(memReader, len(m)+len(changes))
	for k, v := range m {
		out[k] = v
	}
	out.apply(changes)
	return out
}

// Typed reads. Absent records read as their zero value, as the state transition treats them.

func (m memReader) balance(tb rapid.TB, a chain.Address, sym string) *chain.Balance {
	tb.Helper()
	b := m.account(tb, a).Balance(sym)
	if b == nil {
		return &chain.Balance{}
	}
	return b
}

func (m memReader) account(tb rapid.TB, a chain.Address) *chain.Account {
	tb.Helper()
	v, ok := m[string(chain.AccountKey(a))]
	if !ok {
		return &chain.Account{}
	}
	acc, err := chain.DecodeAccount(v)
	if err != nil {
		tb.Fatalf("decode account %s: %v", a, err)
	}
	return acc
}

func (m memReader) program(tb rapid.TB, sym string) *chain.Program {
	tb.Helper()
	v, ok := m[string(chain.ProgramKey(sym))]
	if !ok {
		tb.Fatalf("program %s does not exist", sym)
	}
	p, err := chain.DecodeProgram(v)
	if err != nil {
		tb.Fatalf("decode program %s: %v", sym, err)
	}
	return p
}

func (m memReader) hasProgram(sym string) bool {
	_, ok := m[string(chain.ProgramKey(sym))]
	return ok
}

// order returns the order record, or nil if there is none.
func (m memReader) order(tb rapid.TB, sym, ref string) *chain.Order {
	tb.Helper()
	v, ok := m[string(chain.OrderKey(sym, ref))]
	if !ok {
		return nil
	}
	o, err := chain.DecodeOrder(v)
	if err != nil {
		tb.Fatalf("decode order %s/%s: %v", sym, ref, err)
	}
	return o
}

func (m memReader) route(tb rapid.TB, from, to string) *chain.Route {
	tb.Helper()
	v, ok := m[string(chain.RouteKeyForTest(from, to))]
	if !ok {
		return &chain.Route{}
	}
	r, err := chain.DecodeRoute(v)
	if err != nil {
		tb.Fatalf("decode route %s>%s: %v", from, to, err)
	}
	return r
}

func (m memReader) position(tb rapid.TB, debtor, creditor string) *chain.Position {
	tb.Helper()
	v, ok := m[string(chain.PositionKey(debtor, creditor))]
	if !ok {
		return &chain.Position{}
	}
	p, err := chain.DecodePosition(v)
	if err != nil {
		tb.Fatalf("decode position %s>%s: %v", debtor, creditor, err)
	}
	return p
}

func (m memReader) nonce(a chain.Address) uint64 {
	v, ok := m[string(chain.AccountKey(a))]
	if !ok {
		return 0
	}
	acc, err := chain.DecodeAccount(v)
	if err != nil {
		return 0
	}
	return acc.Nonce
}

// schedule returns a program's expiry schedule: day → points expiring at its start. The
// schedule keys are 'x' ‖ len(symbol) ‖ symbol ‖ day (uint32, big-endian).
func (m memReader) schedule(tb rapid.TB) map[string]map[chain.Day]uint64 {
	tb.Helper()
	out := map[string]map[chain.Day]uint64{}
	for k, v := range m {
		if k == "" || k[0] != 'x' {
			continue
		}
		if len(k) < 2 || len(k) != 2+int(k[1])+4 || len(v) != 8 {
			tb.Fatalf("malformed expiry schedule record %x = %x", k, v)
		}
		sym := k[2 : 2+int(k[1])]
		day := binary.BigEndian.Uint32([]byte(k[2+int(k[1]):]))
		if out[sym] == nil {
			out[sym] = map[chain.Day]uint64{}
		}
		out[sym][day] = binary.BigEndian.Uint64(v)
	}
	return out
}

// balances returns every balance record: symbol → address → balance.
func (m memReader) balances(tb rapid.TB) map[string]map[chain.Address]*chain.Balance {
	tb.Helper()
	out := map[string]map[chain.Address]*chain.Balance{}
	for k, v := range m {
		if k == "" || k[0] != 'a' {
			continue
		}
		if len(k) != 1+20 {
			tb.Fatalf("malformed account key %x", k)
		}
		a := common.BytesToAddress([]byte(k[1:21]))
		acc, err := chain.DecodeAccount(v)
		if err != nil {
			tb.Fatalf("decode account %s: %v", a, err)
		}
		for _, h := range acc.Holdings {
			if out[h.Program] == nil {
				out[h.Program] = map[chain.Address]*chain.Balance{}
			}
			b := h.Balance
			out[h.Program][a] = &b
		}
	}
	return out
}

// programList decodes the sorted list of symbols (u32 count, then u16-length strings).
func (m memReader) programList(tb rapid.TB) []string {
	tb.Helper()
	v, ok := m[string(chain.ProgramListKeyForTest())]
	if !ok {
		return nil
	}
	if len(v) < 4 {
		tb.Fatalf("malformed program list %x", v)
	}
	n := int(binary.BigEndian.Uint32(v))
	v = v[4:]
	var out []string
	for i := 0; i < n; i++ {
		if len(v) < 2 || len(v) < 2+int(binary.BigEndian.Uint16(v)) {
			tb.Fatalf("malformed program list")
		}
		l := int(binary.BigEndian.Uint16(v))
		out = append(out, string(v[2:2+l]))
		v = v[2+l:]
	}
	if len(v) != 0 {
		tb.Fatalf("trailing bytes in program list")
	}
	return out
}

// availableLots counts the lots stored as available (availability day 0).
func availableLots(b *chain.Balance) int {
	n := 0
	for _, l := range b.Lots {
		if l.Available == 0 {
			n++
		}
	}
	return n
}

// windowEarned is what a balance earned within the tier window ending today (days
// today−window+1 … today), or its lifetime earned for window 0.
func windowEarned(b *chain.Balance, today chain.Day, window uint32) uint64 {
	if window == 0 {
		return b.Earned
	}
	var sum uint64
	for _, d := range b.EarnedDays {
		if uint64(d.Day)+uint64(window) > uint64(today) {
			sum += d.Amount
		}
	}
	return sum
}

// stateFixture is a chain: the committed state in a map, the height and time of its last
// block, and the next nonce of every sender.
type stateFixture struct {
	tb      rapid.TB
	base    memReader
	params  chain.Params
	genesis *chain.Genesis
	rules   chain.Rules // genesis's: Version1 unless a test's edit sets a later version
	height  uint64
	time    uint64
	nonces  map[chain.Address]uint64
}

// newStateFixture makes a genesis with the given partners (and one validator run by the
// first) and commits its state at height 0. edit, if non-nil, may change the genesis first.
func newStateFixture(tb rapid.TB, params chain.Params, partners []chain.Address, edit func(g *chain.Genesis)) *stateFixture {
	tb.Helper()
	key, err := crypto.GenerateKey()
	if err != nil {
		tb.Fatal(err)
	}
	g := &chain.Genesis{
		ChainID: testChainID, Network: "state-test", GenesisTime: at(day0, 3600),
		Params: params,
		Validators: []chain.Validator{{
			Name: "node0", Partner: partners[0],
			PubKey: crypto.CompressPubkey(&key.PublicKey), Address: crypto.PubkeyToAddress(key.PublicKey),
		}},
	}
	for i, p := range partners {
		g.Partners = append(g.Partners, chain.Partner{Name: fmt.Sprintf("partner %d", i), Address: p})
	}
	if edit != nil {
		edit(g)
	}
	if err := g.Validate(); err != nil {
		tb.Fatalf("genesis: %v", err)
	}
	f := &stateFixture{tb: tb, base: memReader{}, params: params, genesis: g, rules: g.Rules(), time: g.GenesisTime, nonces: map[chain.Address]uint64{}}
	st := chain.NewState(f.base, &f.rules, 0, g.GenesisTime)
	if err := g.InitState(st); err != nil {
		tb.Fatalf("init state: %v", err)
	}
	f.base.apply(st.Changes())
	f.checkInvariant(tb)
	return f
}

// newStd is the usual network: partners acme, bolt and cafe, no programs yet, at day0.
func newStd(tb rapid.TB) *stateFixture {
	return newStateFixture(tb, chain.DefaultParams(), []chain.Address{who.acme, who.bolt, who.cafe}, nil)
}

func (f *stateFixture) today() chain.Day { return chain.DayOf(f.time) }

// block executes one block at time t (later than the last block), runs fn to send its
// transactions, commits its changes and checks the ledger invariants.
func (f *stateFixture) block(t uint64, fn func(b *blk)) {
	f.tb.Helper()
	if t <= f.time {
		f.tb.Fatalf("block time %d is not after the last block's %d", t, f.time)
	}
	st := chain.NewState(f.base, &f.rules, f.height+1, t)
	if err := st.BeginBlock(); err != nil {
		f.tb.Fatalf("BeginBlock: %v", err)
	}
	today := chain.DayOf(t)
	for sym, days := range f.base.overlay(st.Changes()).schedule(f.tb) {
		for d := range days {
			if d <= today {
				f.tb.Errorf("after BeginBlock of day %d, %s still has points scheduled to expire on day %d", today, sym, d)
			}
		}
	}
	b := &blk{f: f, st: st}
	if fn != nil {
		fn(b)
	}
	if err := st.Err(); err != nil {
		f.tb.Fatalf("state error: %v", err)
	}
	f.base.apply(st.Changes())
	f.height++
	f.time = t
	f.checkInvariant(f.tb)
}

// next executes a block one minute after the last.
func (f *stateFixture) next(fn func(b *blk)) { f.tb.Helper(); f.block(f.time+60, fn) }

// onDay executes a block on UTC day d: at its first second, or a second after the last block
// if that was already on day d.
func (f *stateFixture) onDay(d chain.Day, fn func(b *blk)) {
	f.tb.Helper()
	t := max(dayStart(d), f.time+1)
	if chain.DayOf(t) != d {
		f.tb.Fatalf("cannot make a block on day %d after time %d", d, f.time)
	}
	f.block(t, fn)
}

func (f *stateFixture) balance(a chain.Address, sym string) *chain.Balance {
	f.tb.Helper()
	return f.base.balance(f.tb, a, sym)
}

func (f *stateFixture) program(sym string) *chain.Program {
	f.tb.Helper()
	return f.base.program(f.tb, sym)
}

func (f *stateFixture) order(sym, ref string) *chain.Order {
	f.tb.Helper()
	return f.base.order(f.tb, sym, ref)
}

func (f *stateFixture) route(from, to string) *chain.Route {
	f.tb.Helper()
	return f.base.route(f.tb, from, to)
}

func (f *stateFixture) position(debtor, creditor string) *chain.Position {
	f.tb.Helper()
	return f.base.position(f.tb, debtor, creditor)
}

// total, avail and pending read a committed balance as of the last block's day.
func (f *stateFixture) total(a chain.Address, sym string) uint64 {
	f.tb.Helper()
	return f.balance(a, sym).Total(f.today())
}

func (f *stateFixture) avail(a chain.Address, sym string) uint64 {
	f.tb.Helper()
	return f.balance(a, sym).Available(f.today())
}

func (f *stateFixture) pending(a chain.Address, sym string) uint64 {
	f.tb.Helper()
	return f.balance(a, sym).Pending(f.today())
}

// Shorthands that run one transaction in a block of its own, one minute after the last.

func (f *stateFixture) ok(sender chain.Address, p chain.Payload) []chain.Entry {
	f.tb.Helper()
	var es []chain.Entry
	f.next(func(b *blk) { es = b.ok(sender, p) })
	return es
}

func (f *stateFixture) reject(sender chain.Address, p chain.Payload, want *chain.Error) {
	f.tb.Helper()
	f.next(func(b *blk) { b.reject(sender, p, want) })
}

func (f *stateFixture) register(owner chain.Address, sym string, pol chain.Policy, ops ...chain.Address) {
	f.tb.Helper()
	f.ok(owner, &chain.RegisterProgram{Symbol: sym, Name: sym + " rewards", Policy: pol, Operators: ops})
}

func (f *stateFixture) setPolicy(owner chain.Address, sym string, pol chain.Policy) {
	f.tb.Helper()
	f.ok(owner, &chain.UpdateProgram{Program: sym, SetPolicy: true, Policy: pol})
}

func (f *stateFixture) earn(op chain.Address, sym string, to chain.Address, amount uint64, ref string) {
	f.tb.Helper()
	f.ok(op, &chain.Earn{Program: sym, Credits: []chain.Credit{{To: to, Amount: amount, OrderRef: ref}}})
}

// blk is a block being executed.
type blk struct {
	f  *stateFixture
	st *chain.State
}

// view is the committed state with this block's writes so far.
func (b *blk) view() memReader { return b.f.base.overlay(b.st.Changes()) }

func (b *blk) today() chain.Day { return chain.DayOf(b.st.Time()) }

// tx sends p from sender with the sender's next nonce. A rejected transaction must leave the
// block's changes exactly as they were (and so the nonce); an applied one must advance the
// sender's nonce by exactly one.
func (b *blk) tx(sender chain.Address, p chain.Payload) error {
	b.f.tb.Helper()
	_, err := b.send(sender, chain.NewTx(testChainID, b.f.nonces[sender], 0, p))
	return err
}

// send applies a raw transaction (any nonce, chain id, valid_until) with the same checks.
func (b *blk) send(sender chain.Address, tx *chain.Tx) ([]chain.Entry, error) {
	tb := b.f.tb
	tb.Helper()
	before := b.st.Changes()
	nonceBefore := nonceIn(b.f.base, before, sender)
	entries, err := b.st.ApplyTx(tx, sender)
	after := b.st.Changes()
	if err != nil {
		if !reflect.DeepEqual(before, after) {
			tb.Errorf("rejected %s (%v) changed the state:\n%s", tx.Kind(), err, diffChanges(before, after))
		}
		if entries != nil {
			tb.Errorf("rejected %s returned entries %+v", tx.Kind(), entries)
		}
		if code := chain.Code(err); code == "internal" || code == "" {
			tb.Errorf("rejected %s without a stable code: %v", tx.Kind(), err)
		}
		if n := nonceIn(b.f.base, after, sender); n != nonceBefore {
			tb.Errorf("rejected %s moved the nonce from %d to %d", tx.Kind(), nonceBefore, n)
		}
		return nil, err
	}
	if tx.Nonce != nonceBefore {
		tb.Errorf("%s applied with nonce %d, but the sender's next nonce was %d", tx.Kind(), tx.Nonce, nonceBefore)
	}
	if n := nonceIn(b.f.base, after, sender); n != nonceBefore+1 {
		tb.Errorf("%s moved the nonce from %d to %d, want +1", tx.Kind(), nonceBefore, n)
	}
	b.f.nonces[sender] = tx.Nonce + 1
	return entries, nil
}

// nonceIn is a's next nonce in base with a block's sorted changes applied.
func nonceIn(base memReader, changes []chain.Change, a chain.Address) uint64 {
	k := chain.AccountKey(a)
	i := sort.Search(len(changes), func(i int) bool { return bytes.Compare(changes[i].Key, k) >= 0 })
	if i < len(changes) && bytes.Equal(changes[i].Key, k) {
		acc, err := chain.DecodeAccount(changes[i].Value)
		if err != nil {
			return 0
		}
		return acc.Nonce
	}
	return base.nonce(a)
}

// ok sends p and fails the test if it is rejected.
func (b *blk) ok(sender chain.Address, p chain.Payload) []chain.Entry {
	b.f.tb.Helper()
	es, err := b.send(sender, chain.NewTx(testChainID, b.f.nonces[sender], 0, p))
	if err != nil {
		b.f.tb.Fatalf("%s rejected: %v", p.Kind(), err)
	}
	return es
}

// reject sends p and asserts it is rejected with want (errors.Is and the same Code).
func (b *blk) reject(sender chain.Address, p chain.Payload, want *chain.Error) {
	b.f.tb.Helper()
	err := b.tx(sender, p)
	checkErr(b.f.tb, err, want)
}

func checkErr(tb rapid.TB, err error, want *chain.Error) {
	tb.Helper()
	switch {
	case err == nil:
		tb.Errorf("applied, want rejection %q", want.Code)
	case !errors.Is(err, want) || chain.Code(err) != want.Code:
		tb.Errorf("rejected with %q (%v), want %q", chain.Code(err), err, want.Code)
	}
}

func diffChanges(before, after []chain.Change) string {
	var sb strings.Builder
	m := map[string][]byte{}
	for _, c := range before {
		m[string(c.Key)] = c.Value
	}
	seen := map[string]bool{}
	for _, c := range after {
		seen[string(c.Key)] = true
		if v, ok := m[string(c.Key)]; !ok || !bytes.Equal(v, c.Value) || (v == nil) != (c.Value == nil) {
			fmt.Fprintf(&sb, "  %x: %x -> %x\n", c.Key, v, c.Value)
		}
	}
	for _, c := range before {
		if !seen[string(c.Key)] {
			fmt.Fprintf(&sb, "  %x: %x -> (gone)\n", c.Key, c.Value)
		}
	}
	return sb.String()
}

// checkInvariant checks the committed state as of the last block's day.
func (f *stateFixture) checkInvariant(tb rapid.TB) {
	tb.Helper()
	checkLedger(tb, f.base, f.today(), f.params)
}

// checkLedger checks, for every program, at day today (after BeginBlock):
//   - earned − reversed − redeemed − expired − exchanged_out + exchanged_in = Σ Total(today) of
//     all balance records of the program;
//   - its expiry schedule holds no day ≤ today, and for every later day exactly the points of
//     the lots that expire that day;
//   - every balance's lots are non-zero, sorted by (expiry, availability) without two equal
//     keys, and at most max_lots of them available (pending lots are not bounded: they come
//     only from the program's own earns and never merge across days);
//   - it is in the program list and has counted expiries through today;
//   - balances exist only for registered programs.
func checkLedger(tb rapid.TB, m memReader, today chain.Day, params chain.Params) {
	tb.Helper()
	balances := m.balances(tb)
	schedule := m.schedule(tb)
	var symbols []string
	for k := range m {
		if k != "" && k[0] == 'p' {
			symbols = append(symbols, k[1:])
		}
	}
	sort.Strings(symbols)
	if list := m.programList(tb); !slices.Equal(list, symbols) {
		tb.Errorf("program list %v, programs %v", list, symbols)
	}
	for sym := range balances {
		if !m.hasProgram(sym) {
			tb.Errorf("balances of unknown program %q", sym)
		}
	}
	for sym := range schedule {
		if !m.hasProgram(sym) {
			tb.Errorf("expiry schedule of unknown program %q", sym)
		}
	}
	for _, sym := range symbols {
		p := m.program(tb, sym)
		if p.ExpiredThrough != today {
			tb.Errorf("%s: expired_through %d after a block of day %d", sym, p.ExpiredThrough, today)
		}
		sum := new(big.Int)
		lotsByDay := map[chain.Day]uint64{}
		for a, b := range balances[sym] {
			sum.Add(sum, new(big.Int).SetUint64(b.Total(today)))
			// Stored lots were normalized when last written: Available 0 marks the available ones.
			if n := availableLots(b); n > params.MaxLots {
				tb.Errorf("%s %s: %d available lots exceed max_lots %d: %+v", sym, a, n, params.MaxLots, b.Lots)
			}
			for i, l := range b.Lots {
				if l.Amount == 0 {
					tb.Errorf("%s %s: lot %d has amount 0: %+v", sym, a, i, b.Lots)
				}
				if i > 0 {
					prev := b.Lots[i-1]
					if prev.Expiry > l.Expiry || prev.Expiry == l.Expiry && prev.Available >= l.Available {
						tb.Errorf("%s %s: lots not sorted and merged: %+v", sym, a, b.Lots)
					}
				}
				if l.Expiry != chain.NeverExpires && l.Expiry > today {
					lotsByDay[l.Expiry] += l.Amount
				}
			}
		}
		s := p.Stats
		want := new(big.Int).SetUint64(s.Earned)
		for _, v := range []uint64{s.Reversed, s.Redeemed, s.Expired, s.ExchangedOut} {
			want.Sub(want, new(big.Int).SetUint64(v))
		}
		want.Add(want, new(big.Int).SetUint64(s.ExchangedIn))
		if want.Cmp(sum) != 0 {
			tb.Errorf("%s on day %d: earned %d − reversed %d − redeemed %d − expired %d − exchanged_out %d + exchanged_in %d = %s, but the balances hold %s",
				sym, today, s.Earned, s.Reversed, s.Redeemed, s.Expired, s.ExchangedOut, s.ExchangedIn, want, sum)
		}
		if want.IsUint64() && s.Outstanding() != want.Uint64() {
			tb.Errorf("%s: Outstanding() %d, want %s", sym, s.Outstanding(), want)
		}
		for d, n := range schedule[sym] {
			if d <= today {
				tb.Errorf("%s: %d points still scheduled to expire on day %d, today is %d", sym, n, d, today)
			}
			if lotsByDay[d] != n {
				tb.Errorf("%s: schedule says %d points expire on day %d, the lots hold %d", sym, n, d, lotsByDay[d])
			}
		}
		for d, n := range lotsByDay {
			if _, ok := schedule[sym][d]; !ok {
				tb.Errorf("%s: lots hold %d points expiring on day %d, the schedule has none", sym, n, d)
			}
		}
	}
}

// knownCodes are the stable codes a rejection may carry.
var knownCodes = func() map[string]bool {
	m := map[string]bool{}
	for _, e := range []*chain.Error{
		chain.ErrMalformed, chain.ErrUnknownVersion, chain.ErrUnknownKind, chain.ErrTooLarge, chain.ErrBadSignature,
		chain.ErrBadSymbol, chain.ErrFieldTooLong, chain.ErrTooManyItems, chain.ErrAmountZero, chain.ErrBadPolicy,
		chain.ErrBadRate, chain.ErrSameProgram, chain.ErrEmptyRef, chain.ErrZeroAddress,
		chain.ErrWrongChainID, chain.ErrExpiredTx, chain.ErrNonceTooLow, chain.ErrNonceTooHigh, chain.ErrNotPartner,
		chain.ErrProgramExists, chain.ErrUnknownProgram, chain.ErrNotOwner, chain.ErrNotOperator, chain.ErrProgramRetired,
		chain.ErrDuplicateOrder, chain.ErrUnknownOrder, chain.ErrReverseTooMuch, chain.ErrInsufficientPoints,
		chain.ErrOverflow, chain.ErrRouteClosed, chain.ErrDailyCapReached, chain.ErrBelowMinOut, chain.ErrSettleTooMuch,
		chain.ErrSelfTransfer, chain.ErrTxTooLarge,
	} {
		m[e.Code] = true
	}
	return m
}()

// Compile-time check that *testing.T is a rapid.TB, so the fixture serves both.
var _ rapid.TB = (*testing.T)(nil)

package chain_test

import (
	"flag"
	"fmt"
	"maps"
	"math/bits"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/loyal-ledger/loyal/chain"
)

// TestPropertyLedger runs random blocks (random increasing times over many days, jumping over
// pending and expiry boundaries) of random transactions of every kind by a few partners,
// operators and customers, and checks after every transaction that it applied exactly when
// the rules say it should, with the effects they promise, and after every block the ledger
// invariants (see checkLedger) and that nonces advanced one per applied transaction.
func TestPropertyLedger(t *testing.T) {
	noFailFiles(t)
	rapid.Check(t, func(rt *rapid.T) {
		w := newRandomWorld(rt)
		n := rapid.IntRange(3, 30).Draw(rt, "blocks")
		for i := 0; i < n; i++ {
			w.f.block(drawNextTime(rt, w.f.time), func(b *blk) {
				txs := rapid.IntRange(1, 10).Draw(rt, "txs")
				for j := 0; j < txs; j++ {
					w.step(b)
				}
			})
			w.checkBlock()
		}
	})
}

// noFailFiles stops rapid from writing testdata/rapid fail files for the test: a failure
// prints its -rapid.seed, which reproduces it. The flag is restored when the test ends.
func noFailFiles(t *testing.T) {
	f := flag.Lookup("rapid.nofailfile")
	if f == nil {
		return
	}
	old := f.Value.String()
	if err := flag.Set("rapid.nofailfile", "true"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = flag.Set("rapid.nofailfile", old) })
}

// randomWorld is a ledger with its actors.
type randomWorld struct {
	rt        *rapid.T
	f         *stateFixture
	partners  []chain.Address
	operators []chain.Address
	customers []chain.Address
	everyone  []chain.Address
	symbols   []string // registered at the start
	pool      []string // symbols transactions draw from: registered, registrable and unknown
	refs      int      // order refs used so far: o0, o1, …
}

func newRandomWorld(rt *rapid.T) *randomWorld {
	params := chain.DefaultParams()
	params.MaxLots = rapid.SampledFrom([]int{2, 3, 5, 64}).Draw(rt, "max_lots")
	params.MaxCreditsPerEarn = 4
	w := &randomWorld{rt: rt}
	np := rapid.IntRange(2, 3).Draw(rt, "partners")
	for i := 0; i < np; i++ {
		w.partners = append(w.partners, actor(fmt.Sprintf("partner %d", i)))
		w.operators = append(w.operators, actor(fmt.Sprintf("operator %d", i)))
	}
	nc := rapid.IntRange(4, 6).Draw(rt, "customers")
	for i := 0; i < nc; i++ {
		w.customers = append(w.customers, actor(fmt.Sprintf("customer %d", i)))
	}
	w.everyone = slices.Concat(w.partners, w.operators, w.customers, []chain.Address{actor("stranger")})
	w.symbols = []string{"PA", "PB", "PC"}[:rapid.IntRange(2, 3).Draw(rt, "programs")]
	w.pool = append(slices.Clone(w.symbols), "PD", "NOPE")
	w.f = newStateFixture(rt, params, w.partners, nil)
	w.f.block(at(day0+1, 3600), func(b *blk) {
		for i, sym := range w.symbols {
			b.ok(w.partners[i%np], &chain.RegisterProgram{
				Symbol: sym, Name: sym, Policy: drawPolicy(rt, "policy "+sym), Operators: []chain.Address{w.operators[i%np]},
			})
		}
		// Some routes open from the start: both owners agree.
		for i, from := range w.symbols {
			for j, to := range w.symbols {
				if i == j || !w.chance("route open", 50) {
					continue
				}
				rate := rapid.SampledFrom([][2]uint64{{1, 1}, {1, 2}, {2, 1}, {3, 2}}).Draw(rt, "route rate")
				dailyCap := uint64(0)
				if w.chance("route cap", 30) {
					dailyCap = rapid.Uint64Range(20, 300).Draw(rt, "route cap")
				}
				b.ok(w.partners[i%np], setRate(from, to, rate[0], rate[1], dailyCap))
				if j%np != i%np {
					b.ok(w.partners[j%np], setRate(from, to, rate[0], rate[1], dailyCap))
				}
			}
		}
	})
	w.checkBlock()
	return w
}

func drawPolicy(rt *rapid.T, label string) chain.Policy {
	p := chain.Policy{
		PendingDays:    rapid.SampledFrom([]uint32{0, 0, 1, 2, 3}).Draw(rt, label+" pending_days"),
		ExpiryDays:     rapid.SampledFrom([]uint32{0, 0, 1, 2, 5, 10}).Draw(rt, label+" expiry_days"),
		TierWindowDays: rapid.SampledFrom([]uint32{0, 3, 7}).Draw(rt, label+" tier_window_days"),
	}
	if rapid.Bool().Draw(rt, label+" tiers") {
		p.Tiers = []chain.Tier{{Name: "Silver", Threshold: 100}, {Name: "Gold", Threshold: 400}}
	}
	return p
}

// drawNextTime is a block time after last: minutes or hours later, the next day, the last
// or first second of a day, or a jump of days.
func drawNextTime(rt *rapid.T, last uint64) uint64 {
	today := chain.DayOf(last)
	var t uint64
	switch rapid.IntRange(0, 4).Draw(rt, "time step") {
	case 0:
		t = last + rapid.Uint64Range(1, 6*3600).Draw(rt, "seconds")
	case 1:
		t = dayStart(today+1) + rapid.SampledFrom([]uint64{0, 1, 3600, 43200, 86399}).Draw(rt, "second of day")
	case 2:
		t = dayStart(today+1) - 1
	case 3:
		d := today + chain.Day(rapid.IntRange(2, 12).Draw(rt, "days"))
		t = dayStart(d) + rapid.SampledFrom([]uint64{0, 1, 43200, 86399}).Draw(rt, "second of day")
	default:
		t = dayStart(today + chain.Day(rapid.IntRange(13, 40).Draw(rt, "long jump")))
	}
	if t <= last {
		t = last + 1
	}
	return t
}

// checkBlock checks what checkLedger does not, after a committed block: every nonce is the
// count of the sender's applied transactions, and per program the balances' earned totals
// equal what the orders earned net of reversals, and what the program earned net of
// reversals (clawed back or not).
func (w *randomWorld) checkBlock() {
	rt, m := w.rt, w.f.base
	for _, a := range w.everyone {
		if m.nonce(a) != w.f.nonces[a] {
			rt.Errorf("%s: nonce %d in the state, %d transactions applied", a, m.nonce(a), w.f.nonces[a])
		}
	}
	net := map[string]uint64{}
	for k, v := range m {
		if k == "" || k[0] != 'o' {
			continue
		}
		sym := k[2 : 2+int(k[1])]
		o, err := chain.DecodeOrder(v)
		if err != nil {
			rt.Fatalf("order %x: %v", k, err)
		}
		if o.Reversed > o.Amount {
			rt.Errorf("order %s: reversed %d of %d", k, o.Reversed, o.Amount)
		}
		net[sym] += o.Amount - o.Reversed
	}
	balances := m.balances(rt)
	for _, sym := range w.pool {
		if !m.hasProgram(sym) {
			continue
		}
		var earned uint64
		for _, b := range balances[sym] {
			earned += b.Earned
		}
		s := m.program(rt, sym).Stats
		if earned != net[sym] || earned != s.Earned-s.Reversed-s.Unrecovered {
			rt.Errorf("%s: balances earned %d, orders net %d, stats earned %d − reversed %d − unrecovered %d",
				sym, earned, net[sym], s.Earned, s.Reversed, s.Unrecovered)
		}
	}
}

// roll is a nearly uniform draw from [0, 1024). rapid biases its integers towards small
// values, which would skew weighted choices; the low bits of several draws XORed are nearly
// uniform, and still shrink towards 0.
func roll(rt *rapid.T, label string) int {
	var x uint64
	for i := 0; i < 3; i++ {
		x ^= rapid.Uint64().Draw(rt, label)
	}
	return int(x & 1023)
}

// chance is true with about pct percent probability.
func chance(rt *rapid.T, label string, pct int) bool { return roll(rt, label)*100 < pct*1024 }

func (w *randomWorld) chance(label string, pct int) bool { return chance(w.rt, label, pct) }

func (w *randomWorld) sym(label string) string {
	if w.chance(label+" unusual", 4) {
		return rapid.SampledFrom(w.pool[len(w.symbols):]).Draw(w.rt, label)
	}
	return rapid.SampledFrom(w.symbols).Draw(w.rt, label)
}

// otherSym is usually a program symbol other than sym.
func (w *randomWorld) otherSym(label, sym string) string {
	others := slices.DeleteFunc(slices.Clone(w.symbols), func(s string) bool { return s == sym })
	if w.chance(label+" other", 90) {
		return rapid.SampledFrom(others).Draw(w.rt, label)
	}
	return w.sym(label)
}

// otherCustomer is usually a customer other than c.
func (w *randomWorld) otherCustomer(label string, c chain.Address) chain.Address {
	others := slices.DeleteFunc(slices.Clone(w.customers), func(a chain.Address) bool { return a == c })
	if w.chance(label+" other", 90) {
		return rapid.SampledFrom(others).Draw(w.rt, label)
	}
	return rapid.SampledFrom(w.customers).Draw(w.rt, label)
}

// owner is the owner of sym in v, or the zero address.
func (w *randomWorld) owner(v memReader, sym string) chain.Address {
	if !v.hasProgram(sym) {
		return chain.Address{}
	}
	return v.program(w.rt, sym).Owner
}

// someone is usually one of the likely addresses (when there are any), else anyone.
func (w *randomWorld) someone(label string, likely ...chain.Address) chain.Address {
	likely = slices.DeleteFunc(likely, func(a chain.Address) bool { return a == chain.Address{} })
	if len(likely) > 0 && w.chance(label+" likely", 90) {
		return rapid.SampledFrom(likely).Draw(w.rt, label)
	}
	return rapid.SampledFrom(w.everyone).Draw(w.rt, label)
}

// holder is usually a customer with available points of sym in v, else any customer.
func (w *randomWorld) holder(label string, v memReader, sym string, today chain.Day) chain.Address {
	var holders []chain.Address
	for _, c := range w.customers {
		if v.balance(w.rt, c, sym).Available(today) > 0 {
			holders = append(holders, c)
		}
	}
	if len(holders) > 0 && w.chance(label+" holder", 85) {
		return rapid.SampledFrom(holders).Draw(w.rt, label)
	}
	return rapid.SampledFrom(w.customers).Draw(w.rt, label)
}

// ref is usually a fresh order ref, else one used before.
func (w *randomWorld) ref(label string) string {
	if w.refs == 0 || w.chance(label+" fresh", 85) {
		w.refs++
		return fmt.Sprintf("o%d", w.refs-1)
	}
	return fmt.Sprintf("o%d", rapid.IntRange(0, w.refs-1).Draw(w.rt, label))
}

// operatorsOf is the owner and operators of sym in v.
func (w *randomWorld) operatorsOf(v memReader, sym string) []chain.Address {
	if !v.hasProgram(sym) {
		return nil
	}
	p := v.program(w.rt, sym)
	return append([]chain.Address{p.Owner}, p.Operators...)
}

// amount is usually near have (exactly it, a part of it, or one more), else anything.
func (w *randomWorld) amount(label string, have uint64) uint64 {
	switch r := roll(w.rt, label+" kind"); {
	case r < 300:
		if have > 0 {
			return have
		}
	case r < 750:
		if have > 0 {
			return rapid.Uint64Range(1, have).Draw(w.rt, label)
		}
	case r < 850:
		return have + 1
	}
	return rapid.Uint64Range(1, 300).Draw(w.rt, label)
}

// expect reports a disagreement between whether a transaction applied and whether the rules
// say it should have.
func (w *randomWorld) expect(kind string, err error, should bool, why string) bool {
	w.rt.Helper()
	if err != nil && !knownCodes[chain.Code(err)] {
		w.rt.Errorf("%s rejected with unknown code %q: %v", kind, chain.Code(err), err)
	}
	if (err == nil) != should {
		w.rt.Errorf("%s: applied=%v (err %v), but the rules say %v (%s)", kind, err == nil, err, should, why)
		return false
	}
	return err == nil
}

func (w *randomWorld) step(b *blk) {
	rt := w.rt
	v0 := b.view()
	today := b.today()
	switch k := roll(rt, "kind") * 100 / 1024; {
	case k < 20:
		w.stepEarn(b, v0, today)
	case k < 40:
		w.stepTransfer(b, v0, today)
	case k < 48:
		w.stepRedeem(b, v0, today)
	case k < 60:
		w.stepReverse(b, v0, today)
	case k < 72:
		w.stepExchange(b, v0, today)
	case k < 82:
		w.stepSetRate(b, v0)
	case k < 87:
		w.stepSettle(b, v0)
	case k < 93:
		w.stepUpdate(b, v0)
	case k < 96:
		w.stepRegister(b, v0)
	default:
		w.stepBadTx(b)
	}
}

func (w *randomWorld) stepEarn(b *blk, v0 memReader, today chain.Day) {
	rt := w.rt
	sym := w.sym("earn program")
	sender := w.someone("earner", w.operatorsOf(v0, sym)...)
	p := &chain.Earn{Program: sym}
	n := rapid.IntRange(1, 4).Draw(rt, "credits")
	if w.chance("too many credits", 5) {
		n = 5
	}
	for i := 0; i < n; i++ {
		p.Credits = append(p.Credits, credit(
			rapid.SampledFrom(w.customers).Draw(rt, "to"),
			rapid.Uint64Range(1, 200).Draw(rt, "amount"),
			w.ref("order ref")))
	}
	err := b.tx(sender, p)
	should, why := v0.hasProgram(sym), "program exists"
	if should {
		prog := v0.program(rt, sym)
		seen := map[string]bool{}
		dup := false
		for _, c := range p.Credits {
			dup = dup || seen[c.OrderRef] || v0.order(rt, sym, c.OrderRef) != nil
			seen[c.OrderRef] = true
		}
		should = prog.IsOperator(sender) && !prog.Retired && len(p.Credits) <= w.f.params.MaxCreditsPerEarn && !dup
		why = fmt.Sprintf("operator %v, retired %v, %d credits, duplicate ref %v", prog.IsOperator(sender), prog.Retired, len(p.Credits), dup)
	}
	if !w.expect("earn", err, should, why) {
		return
	}
	v1 := b.view()
	sums := map[chain.Address]uint64{}
	var total uint64
	for _, c := range p.Credits {
		sums[c.To] += c.Amount
		total += c.Amount
		if o := v1.order(rt, sym, c.OrderRef); o == nil || o.Amount != c.Amount || o.To != c.To || o.Reversed != 0 || o.EarnedDay != today {
			rt.Errorf("earn: order %s recorded as %+v", c.OrderRef, o)
		}
	}
	for a, n := range sums {
		if got, was := v1.balance(rt, a, sym).Total(today), v0.balance(rt, a, sym).Total(today); got != was+n {
			rt.Errorf("earn: %s %s total %d → %d, credited %d", a, sym, was, got, n)
		}
	}
	if d := v1.program(rt, sym).Stats.Earned - v0.program(rt, sym).Stats.Earned; d != total {
		rt.Errorf("earn: %s earned grew by %d, credited %d", sym, d, total)
	}
}

func (w *randomWorld) stepTransfer(b *blk, v0 memReader, today chain.Day) {
	rt := w.rt
	sym := w.sym("transfer program")
	from := w.holder("from", v0, sym, today)
	to := w.otherCustomer("to", from)
	have := v0.balance(rt, from, sym).Available(today)
	n := w.amount("transfer amount", have)
	err := b.tx(from, &chain.Transfer{Program: sym, To: to, Amount: n, Memo: "gift"})
	if !w.expect("transfer", err, v0.hasProgram(sym) && from != to && have >= n,
		fmt.Sprintf("program %v, self %v, %d available, %d asked", v0.hasProgram(sym), from == to, have, n)) {
		return
	}
	v1 := b.view()
	if got, was := v1.balance(rt, from, sym).Total(today), v0.balance(rt, from, sym).Total(today); got != was-n {
		rt.Errorf("transfer: sender %d → %d, sent %d", was, got, n)
	}
	if got, was := v1.balance(rt, to, sym).Total(today), v0.balance(rt, to, sym).Total(today); got != was+n {
		rt.Errorf("transfer: recipient %d → %d, sent %d", was, got, n)
	}
}

func (w *randomWorld) stepRedeem(b *blk, v0 memReader, today chain.Day) {
	rt := w.rt
	sym := w.sym("redeem program")
	from := w.holder("redeemer", v0, sym, today)
	have := v0.balance(rt, from, sym).Available(today)
	n := w.amount("redeem amount", have)
	err := b.tx(from, &chain.Redeem{Program: sym, Amount: n, RewardRef: "reward"})
	if !w.expect("redeem", err, v0.hasProgram(sym) && have >= n, fmt.Sprintf("%d available, %d asked", have, n)) {
		return
	}
	v1 := b.view()
	if got, was := v1.balance(rt, from, sym).Total(today), v0.balance(rt, from, sym).Total(today); got != was-n {
		rt.Errorf("redeem: %d → %d, redeemed %d", was, got, n)
	}
	if d := v1.program(rt, sym).Stats.Redeemed - v0.program(rt, sym).Stats.Redeemed; d != n {
		rt.Errorf("redeem: redeemed grew by %d, redeemed %d", d, n)
	}
}

func (w *randomWorld) stepReverse(b *blk, v0 memReader, today chain.Day) {
	rt := w.rt
	sym := w.sym("reverse program")
	sender := w.someone("reverser", w.operatorsOf(v0, sym)...)
	ref := w.ref("reverse ref")
	if open := w.ordersWithPoints(v0, sym); len(open) > 0 && w.chance("reverse a real order", 85) {
		ref = rapid.SampledFrom(open).Draw(rt, "reverse ref")
	}
	var left uint64
	o := (*chain.Order)(nil)
	if v0.hasProgram(sym) {
		o = v0.order(rt, sym, ref)
	}
	if o != nil {
		left = o.Amount - o.Reversed
	}
	n := w.amount("reverse amount", left)
	es, err := b.send(sender, chain.NewTx(testChainID, w.f.nonces[sender], 0, &chain.Reverse{Program: sym, OrderRef: ref, Amount: n}))
	should := v0.hasProgram(sym) && v0.program(rt, sym).IsOperator(sender) && o != nil && n <= left
	if !w.expect("reverse", err, should, fmt.Sprintf("order %+v, %d asked", o, n)) {
		return
	}
	v1 := b.view()
	e := es[len(es)-1]
	if e.Cause != chain.CauseReverse || e.Account != o.To || e.Debit+e.Unrecovered != n {
		rt.Errorf("reverse of %d: entry %+v", n, e)
	}
	b0, b1 := v0.balance(rt, o.To, sym), v1.balance(rt, o.To, sym)
	if b1.Total(today) != b0.Total(today)-e.Debit {
		rt.Errorf("reverse: customer %d → %d, debit %d", b0.Total(today), b1.Total(today), e.Debit)
	}
	if b1.Earned != b0.Earned-n {
		rt.Errorf("reverse of %d: customer earned %d → %d", n, b0.Earned, b1.Earned)
	}
	if e.Unrecovered > 0 && b1.Available(today) > 0 {
		rt.Errorf("reverse: %d booked unrecovered while the customer still has %d available", e.Unrecovered, b1.Available(today))
	}
	{
		// First the order's own lot if still pending, then available points; other pending
		// points are not the order's (pending lots never merge).
		var own uint64
		if o.Available > today {
			own = pendingLots(b0, today)[[2]chain.Day{o.Expiry, o.Available}]
		}
		if want := min(n, own+b0.Available(today)); e.Debit != want {
			rt.Errorf("reverse of %d: recovered %d, want %d (%d of the order still pending, %d available; lots %+v)",
				n, e.Debit, want, own, b0.Available(today), b0.Lots)
		}
		p0, p1 := pendingLots(b0, today), pendingLots(b1, today)
		delete(p0, [2]chain.Day{o.Expiry, o.Available})
		delete(p1, [2]chain.Day{o.Expiry, o.Available})
		if !maps.Equal(p0, p1) {
			rt.Errorf("reverse of order %s (%+v) took other pending points: %+v → %+v", ref, o, b0.Lots, b1.Lots)
		}
	}
	s0, s1 := v0.program(rt, sym).Stats, v1.program(rt, sym).Stats
	if s1.Reversed-s0.Reversed != e.Debit || s1.Unrecovered-s0.Unrecovered != e.Unrecovered {
		rt.Errorf("reverse: stats %+v → %+v, entry %+v", s0, s1, e)
	}
	if got := v1.order(rt, sym, ref).Reversed; got != o.Reversed+n {
		rt.Errorf("reverse: order reversed %d → %d, reversed %d", o.Reversed, got, n)
	}
}

// ordersWithPoints lists the refs of sym's orders not fully reversed, sorted.
func (w *randomWorld) ordersWithPoints(v memReader, sym string) []string {
	var refs []string
	prefix := string(chain.OrderKey(sym, ""))
	for k, val := range v {
		if len(k) > len(prefix) && k[:len(prefix)] == prefix {
			if o, err := chain.DecodeOrder(val); err == nil && o.Reversed < o.Amount {
				refs = append(refs, k[len(prefix):])
			}
		}
	}
	slices.Sort(refs)
	return refs
}

// pendingLots is a balance's still-pending points on day today by (expiry, available).
func pendingLots(b *chain.Balance, today chain.Day) map[[2]chain.Day]uint64 {
	m := map[[2]chain.Day]uint64{}
	for _, l := range b.Lots {
		if l.Available > today && (l.Expiry == chain.NeverExpires || l.Expiry > today) {
			m[[2]chain.Day{l.Expiry, l.Available}] += l.Amount
		}
	}
	return m
}

func (w *randomWorld) stepExchange(b *blk, v0 memReader, today chain.Day) {
	rt := w.rt
	from := w.sym("exchange from")
	to := w.otherSym("exchange to", from)
	sender := w.holder("exchanger", v0, from, today)
	have := v0.balance(rt, sender, from).Available(today)
	n := w.amount("exchange amount", have)
	r := v0.route(rt, from, to)
	var out uint64
	if r.Open() {
		hi, lo := bits.Mul64(n, r.FromSide.Numerator)
		out, _ = bits.Div64(hi, lo, r.FromSide.Denominator)
	}
	minOut := uint64(0)
	if rapid.Bool().Draw(rt, "with min_out") {
		minOut = rapid.Uint64Range(0, out+1).Draw(rt, "min_out")
	}
	used := r.Used
	if r.Day != today {
		used = 0
	}
	capOK := r.Cap() == 0 || used+n <= r.Cap()
	err := b.tx(sender, &chain.Exchange{From: from, To: to, Amount: n, MinOut: minOut})
	exists := v0.hasProgram(from) && v0.hasProgram(to)
	should := exists && from != to && !v0.program(rt, to).Retired && r.Open() && capOK && out >= minOut && out > 0 && have >= n
	if !w.expect("exchange", err, should, fmt.Sprintf("%s>%s route %+v, out %d, min_out %d, %d available, %d asked", from, to, r, out, minOut, have, n)) {
		return
	}
	v1 := b.view()
	if got, was := v1.balance(rt, sender, from).Total(today), v0.balance(rt, sender, from).Total(today); got != was-n {
		rt.Errorf("exchange: source %d → %d, burnt %d", was, got, n)
	}
	if got, was := v1.balance(rt, sender, to).Total(today), v0.balance(rt, sender, to).Total(today); got != was+out {
		rt.Errorf("exchange: target %d → %d, minted %d", was, got, out)
	}
	if got, was := v1.position(rt, from, to).Owed, v0.position(rt, from, to).Owed; got != was+out {
		rt.Errorf("exchange: owed %d → %d, minted %d", was, got, out)
	}
	if got := v1.route(rt, from, to); got.Day != today || got.Used != used+n {
		rt.Errorf("exchange: route usage %+v, want day %d used %d", got, today, used+n)
	}
	if d := v1.program(rt, from).Stats.ExchangedOut - v0.program(rt, from).Stats.ExchangedOut; d != n {
		rt.Errorf("exchange: exchanged_out grew by %d, burnt %d", d, n)
	}
	if d := v1.program(rt, to).Stats.ExchangedIn - v0.program(rt, to).Stats.ExchangedIn; d != out {
		rt.Errorf("exchange: exchanged_in grew by %d, minted %d", d, out)
	}
}

func (w *randomWorld) stepSetRate(b *blk, v0 memReader) {
	rt := w.rt
	from := w.sym("rate from")
	to := w.otherSym("rate to", from)
	sender := w.someone("rate setter", w.owner(v0, from), w.owner(v0, to))
	rate := rapid.SampledFrom([][2]uint64{{1, 1}, {1, 2}, {2, 1}, {3, 2}, {0, 1}}).Draw(rt, "rate")
	dailyCap := uint64(0)
	if rate[0] != 0 && w.chance("with cap", 30) {
		dailyCap = rapid.Uint64Range(20, 300).Draw(rt, "cap")
	}
	if r := v0.route(rt, from, to); w.chance("agree", 50) {
		// Agree with the other side, if it has set one.
		other := r.FromSide
		if sender == w.owner(v0, from) {
			other = r.ToSide
		}
		if other.Numerator != 0 {
			rate, dailyCap = [2]uint64{other.Numerator, other.Denominator}, other.DailyCap
		}
	}
	err := b.tx(sender, setRate(from, to, rate[0], rate[1], dailyCap))
	ownsFrom, ownsTo := sender == w.owner(v0, from), sender == w.owner(v0, to)
	should := v0.hasProgram(from) && v0.hasProgram(to) && from != to && (ownsFrom || ownsTo)
	if !w.expect("set_rate", err, should, fmt.Sprintf("%s>%s owns from %v, to %v", from, to, ownsFrom, ownsTo)) {
		return
	}
	want := *v0.route(rt, from, to)
	side := chain.RateSide{Numerator: rate[0], Denominator: rate[1], DailyCap: dailyCap}
	if rate[0] == 0 {
		side = chain.RateSide{}
	}
	if ownsFrom {
		want.FromSide = side
	}
	if ownsTo {
		want.ToSide = side
	}
	if got := *b.view().route(rt, from, to); got != want {
		rt.Errorf("set_rate: route %+v, want %+v", got, want)
	}
}

func (w *randomWorld) stepSettle(b *blk, v0 memReader) {
	rt := w.rt
	creditor := w.sym("settle creditor")
	debtor := w.otherSym("settle debtor", creditor)
	sender := w.someone("settler", w.owner(v0, creditor))
	open := v0.position(rt, debtor, creditor).Open()
	n := w.amount("settle amount", open)
	err := b.tx(sender, &chain.Settle{Program: creditor, Counterparty: debtor, Amount: n})
	should := v0.hasProgram(creditor) && v0.hasProgram(debtor) && creditor != debtor && sender == w.owner(v0, creditor) && n <= open
	if !w.expect("settle", err, should, fmt.Sprintf("%s owes %s %d, %d settled", debtor, creditor, open, n)) {
		return
	}
	if got := b.view().position(rt, debtor, creditor); got.Open() != open-n {
		rt.Errorf("settle: open %d → %d, settled %d", open, got.Open(), n)
	}
}

func (w *randomWorld) stepUpdate(b *blk, v0 memReader) {
	rt := w.rt
	sym := w.sym("update program")
	sender := w.someone("updater", w.owner(v0, sym))
	p := &chain.UpdateProgram{Program: sym}
	if w.chance("set policy", 50) {
		p.SetPolicy, p.Policy = true, drawPolicy(rt, "new policy")
	}
	if w.chance("set operators", 30) {
		p.SetOperators = true
		for _, op := range w.operators {
			if rapid.Bool().Draw(rt, "operator") {
				p.Operators = append(p.Operators, op)
			}
		}
	}
	if w.chance("new owner", 5) {
		p.NewOwner = rapid.SampledFrom(w.partners).Draw(rt, "owner")
	}
	p.Retire = w.chance("retire", 3)
	err := b.tx(sender, p)
	changes := p.SetPolicy || p.SetOperators || p.NewOwner != (chain.Address{}) || p.Retire
	if !w.expect("update_program", err, changes && sender == w.owner(v0, sym), "owner, changes something") {
		return
	}
	want := *v0.program(rt, sym)
	if p.SetPolicy {
		want.Policy = p.Policy
	}
	if p.SetOperators {
		want.Operators = p.Operators
	}
	if p.NewOwner != (chain.Address{}) {
		want.Owner = p.NewOwner
	}
	want.Retired = want.Retired || p.Retire
	if got := *b.view().program(rt, sym); !equalPrograms(got, want) {
		rt.Errorf("update_program: program %+v, want %+v", got, want)
	}
}

func equalPrograms(a, b chain.Program) bool {
	if len(a.Operators) == 0 && len(b.Operators) == 0 {
		a.Operators, b.Operators = nil, nil
	}
	if len(a.Policy.Tiers) == 0 && len(b.Policy.Tiers) == 0 {
		a.Policy.Tiers, b.Policy.Tiers = nil, nil
	}
	return fmt.Sprintf("%+v", a) == fmt.Sprintf("%+v", b)
}

func (w *randomWorld) stepRegister(b *blk, v0 memReader) {
	rt := w.rt
	sender := w.someone("registrant", w.partners...)
	sym := rapid.SampledFrom(w.pool[:len(w.pool)-1]).Draw(rt, "register symbol")
	err := b.tx(sender, &chain.RegisterProgram{Symbol: sym, Name: sym, Policy: drawPolicy(rt, "register policy")})
	if !w.expect("register_program", err, slices.Contains(w.partners, sender) && !v0.hasProgram(sym), "partner, new symbol") {
		return
	}
	if got := b.view().program(rt, sym); got.Owner != sender || got.ExpiredThrough != b.today() {
		rt.Errorf("register_program: %+v", got)
	}
}

// stepBadTx sends a transaction that must be rejected before its payload matters.
func (w *randomWorld) stepBadTx(b *blk) {
	rt := w.rt
	sender := rapid.SampledFrom(w.everyone).Draw(rt, "bad tx sender")
	next := w.f.nonces[sender]
	p := &chain.Transfer{Program: w.symbols[0], To: actor("nobody"), Amount: 1}
	var (
		tx   *chain.Tx
		want *chain.Error
	)
	switch rapid.IntRange(0, 3).Draw(rt, "bad tx kind") {
	case 0:
		tx, want = chain.NewTx(testChainID, next+rapid.Uint64Range(1, 3).Draw(rt, "skip"), 0, p), chain.ErrNonceTooHigh
	case 1:
		if next == 0 {
			return
		}
		tx, want = chain.NewTx(testChainID, rapid.Uint64Range(0, next-1).Draw(rt, "old nonce"), 0, p), chain.ErrNonceTooLow
	case 2:
		tx, want = chain.NewTx(testChainID, next, b.st.Time()-1, p), chain.ErrExpiredTx
	default:
		tx, want = chain.NewTx(testChainID+1, next, 0, p), chain.ErrWrongChainID
	}
	_, err := b.send(sender, tx)
	checkErr(rt, err, want)
}

// TestPropertyRefundLoop is the buy–refund–repeat loop: a customer earns an order, tries to
// spend (transfer, redeem, exchange) before and after its points become available, the
// operator reverses the whole order, and again with a new ref and random pending_days, while
// other orders ("keepers", with their own pending_days) are earned before and after it and
// never reversed. After each reversal the customer holds exactly what they held before that
// order's earn, plus the keepers earned since, minus what they spent since, plus only what the
// reversal booked as unrecovered — which can never exceed what they spent; so they can never
// hold, nor at the end spend, more than they earned net of reversals.
func TestPropertyRefundLoop(t *testing.T) {
	noFailFiles(t)
	rapid.Check(t, func(rt *rapid.T) {
		params := chain.DefaultParams()
		params.MaxLots = rapid.SampledFrom([]int{2, 3, 4, 64}).Draw(rt, "max_lots")
		f := newStateFixture(rt, params, []chain.Address{who.acme}, nil)
		alice := who.alice
		pending := func(label string) chain.Policy {
			return chain.Policy{PendingDays: uint32(rapid.IntRange(0, 5).Draw(rt, label))}
		}
		f.next(func(b *blk) {
			b.ok(who.acme, &chain.RegisterProgram{Symbol: "LOOP", Name: "Loop", Operators: []chain.Address{who.acmeOp}, Policy: pending("pending_days")})
			b.ok(who.acme, &chain.RegisterProgram{Symbol: "SIDE", Name: "Side"})
			b.ok(who.acme, setRate("LOOP", "SIDE", 1, 1, 0)) // owner of both: open at once
		})
		bal := func() *chain.Balance { return f.balance(alice, "LOOP") }
		var keepers uint64 // earned and never reversed
		keeper := func(label string) uint64 {
			if !chance(rt, label, 50) {
				return 0
			}
			f.setPolicy(who.acme, "LOOP", pending(label+" pending_days"))
			n := rapid.Uint64Range(1, 100).Draw(rt, label+" amount")
			f.earn(who.acmeOp, "LOOP", alice, n, fmt.Sprintf("keeper %d", keepers))
			keepers += n
			return n
		}
		wait := func(label string) uint64 {
			if chance(rt, label+" days", 50) {
				return f.time + rapid.Uint64Range(1, 6*chain.SecondsPerDay).Draw(rt, label)
			}
			return f.time + rapid.Uint64Range(1, 12*3600).Draw(rt, label)
		}
		loops := rapid.IntRange(1, 8).Draw(rt, "loops")
		for i := 0; i < loops; i++ {
			keeper("keeper before")
			before := f.total(alice, "LOOP")
			f.setPolicy(who.acme, "LOOP", pending("order pending_days"))
			amount := rapid.Uint64Range(1, 200).Draw(rt, "order amount")
			ref := fmt.Sprintf("order %d", i)
			f.earn(who.acmeOp, "LOOP", alice, amount, ref)
			since := keeper("keeper after")
			var spent uint64
			for r, n := 0, rapid.IntRange(0, 4).Draw(rt, "tries"); r < n; r++ {
				f.block(wait("wait"), func(b *blk) {
					have := b.view().balance(rt, alice, "LOOP").Available(b.today())
					want := rapid.Uint64Range(1, have+50).Draw(rt, "spend")
					var p chain.Payload
					switch rapid.IntRange(0, 2).Draw(rt, "spend kind") {
					case 0:
						p = &chain.Transfer{Program: "LOOP", To: who.bob, Amount: want}
					case 1:
						p = &chain.Redeem{Program: "LOOP", Amount: want, RewardRef: "reward"}
					default:
						p = exch("LOOP", "SIDE", want, 0)
					}
					err := b.tx(alice, p)
					switch {
					case err == nil && want > have:
						rt.Errorf("%s of %d applied with %d available", p.Kind(), want, have)
					case err != nil && want <= have:
						rt.Errorf("%s of %d rejected with %d available: %v", p.Kind(), want, have, err)
					case err != nil:
						checkErr(rt, err, chain.ErrInsufficientPoints)
					default:
						spent += want
					}
				})
			}
			if chance(rt, "wait before the refund", 50) {
				f.block(wait("refund wait"), nil)
			}
			lots := bal().Lots
			es := f.ok(who.acmeOp, &chain.Reverse{Program: "LOOP", OrderRef: ref, Amount: amount})
			e := es[len(es)-1]
			after := f.total(alice, "LOOP")
			if e.Debit+e.Unrecovered != amount {
				rt.Fatalf("reversal of %d: entry %+v", amount, e)
			}
			if after+spent != before+since+e.Unrecovered {
				rt.Fatalf("loop %d: held %d before the order, earned %d and spent %d since, unrecovered %d, holds %d after the refund",
					i, before, since, spent, e.Unrecovered, after)
			}
			if e.Unrecovered > spent {
				rt.Fatalf("loop %d: the refund of %d booked %d unrecovered, but the customer spent only %d since the order: "+
					"they keep %d points of a refunded order (lots before the refund %+v, after %+v, order %+v)",
					i, amount, e.Unrecovered, spent, e.Unrecovered-spent, lots, bal().Lots, *f.order("LOOP", ref))
			}
			if bal().Earned != keepers {
				rt.Fatalf("loop %d: earned %d after the refund, keepers %d", i, bal().Earned, keepers)
			}
			if after > keepers {
				rt.Fatalf("loop %d: holds %d, more than the %d earned net of reversals", i, after, keepers)
			}
		}
		f.block(f.time+10*chain.SecondsPerDay, nil) // everything has matured
		if b := bal(); b.Available(f.today()) > b.Earned || b.Earned != keepers {
			rt.Fatalf("end: %d available, earned net of reversals %d (keepers %d)", b.Available(f.today()), b.Earned, keepers)
		}
	})
}

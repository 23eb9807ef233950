package chain

import (
	"fmt"
)

// State records: what the authenticated state map holds. Each has a canonical binary encoding
// (a version byte, then fixed-width fields), and the state root commits to those bytes, so
// an auditor can decode a proven record and recompute a balance from it.

const recordVersion = 1

// Lot is an amount of one program's points sharing an expiry day and an availability day.
// Available is 0 once the points are spendable (so matured and transferred lots merge by
// expiry alone); otherwise it is the UTC day from whose start they can be spent.
type Lot struct {
	Amount    uint64 `json:"amount,string"`
	Expiry    Day    `json:"expiry_day"`
	Available Day    `json:"available_day"`
}

// DayAmount is an amount earned on one UTC day, for windowed tier totals.
type DayAmount struct {
	Day    Day    `json:"day"`
	Amount uint64 `json:"amount,string"`
}

// Balance is one account's holding in one program.
type Balance struct {
	// Lots, sorted by (Expiry, Available); lots with equal keys are merged.
	Lots []Lot `json:"lots"`
	// Earned is the lifetime points earned in this program net of reversals.
	Earned uint64 `json:"earned,string"`
	// EarnedDays holds earnings per UTC day within the program's tier window, oldest first.
	EarnedDays []DayAmount `json:"earned_days"`
}

func (b *Balance) encodeTo(e *encoder) {
	e.U64(b.Earned)
	e.U32(uint32(len(b.Lots)))
	for _, l := range b.Lots {
		e.U64(l.Amount)
		e.U32(l.Expiry)
		e.U32(l.Available)
	}
	e.U32(uint32(len(b.EarnedDays)))
	for _, d := range b.EarnedDays {
		e.U32(d.Day)
		e.U64(d.Amount)
	}
}

func (b *Balance) decodeFrom(d *decoder) {
	b.Earned = d.U64()
	if n := d.Count(1<<20, 16); n > 0 {
		b.Lots = make([]Lot, n)
		for i := range b.Lots {
			b.Lots[i] = Lot{Amount: d.U64(), Expiry: d.U32(), Available: d.U32()}
		}
	}
	if n := d.Count(1<<20, 12); n > 0 {
		b.EarnedDays = make([]DayAmount, n)
		for i := range b.EarnedDays {
			b.EarnedDays[i] = DayAmount{Day: d.U32(), Amount: d.U64()}
		}
	}
}

// ProgramStats are a program's running totals. Outstanding points (the merchant's liability,
// pending included) are Earned − Reversed − Redeemed − Expired − ExchangedOut + ExchangedIn,
// and always equal the sum of all balances in the program.
type ProgramStats struct {
	Earned       uint64 `json:"earned,string"`
	Reversed     uint64 `json:"reversed,string"`    // clawed back from customers by reversals
	Unrecovered  uint64 `json:"unrecovered,string"` // reversed but already spent, so not clawed back
	Redeemed     uint64 `json:"redeemed,string"`
	Expired      uint64 `json:"expired,string"`
	ExchangedIn  uint64 `json:"exchanged_in,string"`
	ExchangedOut uint64 `json:"exchanged_out,string"`
}

// Supply is every point ever minted: earned plus exchanged in.
func (s ProgramStats) Supply() uint64 { return s.Earned + s.ExchangedIn }

// Outstanding is the points currently held by customers, pending included.
func (s ProgramStats) Outstanding() uint64 {
	return s.Earned + s.ExchangedIn - s.Reversed - s.Redeemed - s.Expired - s.ExchangedOut
}

// Program is a merchant's loyalty program.
type Program struct {
	Symbol    string    `json:"symbol"`
	Name      string    `json:"name"`
	Owner     Address   `json:"owner"`
	Operators []Address `json:"operators"`
	Policy    Policy    `json:"policy"`
	Retired   bool      `json:"retired"`
	// ExpiredThrough is the last UTC day whose expiring points have been counted as expired.
	ExpiredThrough Day          `json:"expired_through"`
	Stats          ProgramStats `json:"stats"`
}

func (p *Program) encode() []byte {
	e := encoder{Buf: make([]byte, 0, 160)}
	e.U8(recordVersion)
	e.Str(p.Symbol)
	e.Str(p.Name)
	e.Address(p.Owner)
	encodeAddresses(&e, p.Operators)
	p.Policy.encode(&e)
	e.Bool(p.Retired)
	e.U32(p.ExpiredThrough)
	s := &p.Stats
	for _, v := range []uint64{s.Earned, s.Reversed, s.Unrecovered, s.Redeemed, s.Expired, s.ExchangedIn, s.ExchangedOut} {
		e.U64(v)
	}
	return e.Buf
}

// DecodeProgram decodes a program record.
func DecodeProgram(buf []byte) (*Program, error) {
	d := newDecoder(buf)
	if v := d.U8(); d.Err == nil && v != recordVersion {
		return nil, fmt.Errorf("%w: program record version %d", ErrUnknownVersion, v)
	}
	p := &Program{Symbol: d.Str(MaxSymbolLen), Name: d.Str(maxDecodeString), Owner: d.Address()}
	p.Operators = decodeAddresses(&d, maxDecodeOperators)
	p.Policy.decode(&d)
	p.Retired = d.Bool()
	p.ExpiredThrough = d.U32()
	s := &p.Stats
	for _, v := range []*uint64{&s.Earned, &s.Reversed, &s.Unrecovered, &s.Redeemed, &s.Expired, &s.ExchangedIn, &s.ExchangedOut} {
		*v = d.U64()
	}
	return p, d.Finish()
}

// IsOperator reports whether a may earn and reverse in the program (owner or operator).
func (p *Program) IsOperator(a Address) bool {
	if a == p.Owner {
		return true
	}
	for _, o := range p.Operators {
		if o == a {
			return true
		}
	}
	return false
}

// Order is the record of one earn credit, kept forever so an order ref is never credited
// twice and a refund can be reversed against exactly what the order earned.
type Order struct {
	To        Address `json:"to"`
	Amount    uint64  `json:"amount,string"`
	Reversed  uint64  `json:"reversed,string"`
	EarnedDay Day     `json:"earned_day"`
	Expiry    Day     `json:"expiry_day"`
	Available Day     `json:"available_day"`
	Height    uint64  `json:"height,string"`
}

func (o *Order) encode() []byte {
	e := encoder{Buf: make([]byte, 0, 64)}
	e.U8(recordVersion)
	e.Address(o.To)
	e.U64(o.Amount)
	e.U64(o.Reversed)
	e.U32(o.EarnedDay)
	e.U32(o.Expiry)
	e.U32(o.Available)
	e.U64(o.Height)
	return e.Buf
}

// DecodeOrder decodes an order record.
func DecodeOrder(buf []byte) (*Order, error) {
	d := newDecoder(buf)
	if v := d.U8(); d.Err == nil && v != recordVersion {
		return nil, fmt.Errorf("%w: order record version %d", ErrUnknownVersion, v)
	}
	o := &Order{To: d.Address(), Amount: d.U64(), Reversed: d.U64(), EarnedDay: d.U32(), Expiry: d.U32(), Available: d.U32(), Height: d.U64()}
	return o, d.Finish()
}

// RateSide is one owner's proposal for a route.
type RateSide struct {
	Numerator   uint64 `json:"numerator,string"`
	Denominator uint64 `json:"denominator,string"`
	DailyCap    uint64 `json:"daily_cap,string"`
}

// Route is the exchange route From → To: the two owners' proposals and today's usage.
type Route struct {
	FromSide RateSide `json:"from_side"` // set by the owner of From
	ToSide   RateSide `json:"to_side"`   // set by the owner of To
	Day      Day      `json:"day"`       // the UTC day Used counts
	Used     uint64   `json:"used,string"`
}

// Open reports whether both owners set the identical, non-zero rate.
func (r *Route) Open() bool {
	return r.FromSide.Numerator != 0 && r.FromSide.Denominator != 0 &&
		r.FromSide.Numerator == r.ToSide.Numerator && r.FromSide.Denominator == r.ToSide.Denominator
}

// Cap is the daily cap in source points that applies (0 = none): the smaller if both set one.
func (r *Route) Cap() uint64 {
	a, b := r.FromSide.DailyCap, r.ToSide.DailyCap
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	case a < b:
		return a
	default:
		return b
	}
}

func (r *Route) encode() []byte {
	e := encoder{Buf: make([]byte, 0, 64)}
	e.U8(recordVersion)
	for _, s := range []RateSide{r.FromSide, r.ToSide} {
		e.U64(s.Numerator)
		e.U64(s.Denominator)
		e.U64(s.DailyCap)
	}
	e.U32(r.Day)
	e.U64(r.Used)
	return e.Buf
}

// DecodeRoute decodes a route record.
func DecodeRoute(buf []byte) (*Route, error) {
	d := newDecoder(buf)
	if v := d.U8(); d.Err == nil && v != recordVersion {
		return nil, fmt.Errorf("%w: route record version %d", ErrUnknownVersion, v)
	}
	r := &Route{}
	for _, s := range []*RateSide{&r.FromSide, &r.ToSide} {
		s.Numerator, s.Denominator, s.DailyCap = d.U64(), d.U64(), d.U64()
	}
	r.Day = d.U32()
	r.Used = d.U64()
	return r, d.Finish()
}

// Position is what the owner of a debtor program owes the owner of a creditor program for
// points minted by exchanges from debtor into creditor, and what has been settled.
type Position struct {
	Owed    uint64 `json:"owed,string"`
	Settled uint64 `json:"settled,string"`
}

// Open is the unsettled amount.
func (p Position) Open() uint64 { return p.Owed - p.Settled }

func (p *Position) encode() []byte {
	e := encoder{Buf: make([]byte, 0, 17)}
	e.U8(recordVersion)
	e.U64(p.Owed)
	e.U64(p.Settled)
	return e.Buf
}

// DecodePosition decodes a settlement position record.
func DecodePosition(buf []byte) (*Position, error) {
	d := newDecoder(buf)
	if v := d.U8(); d.Err == nil && v != recordVersion {
		return nil, fmt.Errorf("%w: position record version %d", ErrUnknownVersion, v)
	}
	p := &Position{Owed: d.U64(), Settled: d.U64()}
	return p, d.Finish()
}

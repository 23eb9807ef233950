package chain

import (
	"fmt"
	"unicode/utf8"
)

// The stateless rules that the fields of several payloads share.

func checkSymbol(field, s string) error {
	if !ValidSymbol(s) {
		return rejectf(ErrBadSymbol, "%s %q", field, s)
	}
	return nil
}

func checkString(field, s string, max int) error {
	if len(s) > max {
		return rejectf(ErrFieldTooLong, "%s of %d bytes exceeds %d", field, len(s), max)
	}
	if !utf8.ValidString(s) {
		return rejectf(ErrMalformed, "%s is not valid UTF-8", field)
	}
	return nil
}

func checkRef(field, s string) error {
	if s == "" {
		return rejectf(ErrEmptyRef, "%s", field)
	}
	return checkString(field, s, maxDecodeString)
}

func checkAmount(field string, v uint64) error {
	if v == 0 {
		return rejectf(ErrAmountZero, "%s", field)
	}
	return nil
}

// RegisterProgram creates a program; only a partner may send it, and becomes its owner.
type RegisterProgram struct {
	Symbol    string    `json:"symbol"`
	Name      string    `json:"name"`
	Policy    Policy    `json:"policy"`
	Operators []Address `json:"operators"`
}

// Kind implements Payload.
func (*RegisterProgram) Kind() Kind { return KindRegisterProgram }

func (p *RegisterProgram) encode(e *encoder) {
	e.Str(p.Symbol)
	e.Str(p.Name)
	p.Policy.encode(e)
	encodeAddresses(e, p.Operators)
}

func (p *RegisterProgram) decode(d *decoder) {
	p.Symbol = d.Str(MaxSymbolLen)
	p.Name = d.Str(maxDecodeString)
	p.Policy.decode(d)
	p.Operators = decodeAddresses(d, maxDecodeOperators)
}

func (p *RegisterProgram) check() error {
	if err := checkSymbol("symbol", p.Symbol); err != nil {
		return err
	}
	if err := checkString("name", p.Name, maxDecodeString); err != nil {
		return err
	}
	if err := p.Policy.check(); err != nil {
		return err
	}
	return checkOperators(p.Operators)
}

// UpdateProgram changes a program; only its owner may send it. Each change is optional:
// SetPolicy replaces the policy for points earned afterwards, SetOperators replaces the
// operator list, a non-zero NewOwner hands the program to another key, Retire stops new earns.
type UpdateProgram struct {
	Program      string    `json:"program"`
	SetPolicy    bool      `json:"set_policy"`
	Policy       Policy    `json:"policy"`
	SetOperators bool      `json:"set_operators"`
	Operators    []Address `json:"operators"`
	NewOwner     Address   `json:"new_owner"`
	Retire       bool      `json:"retire"`
}

// Kind implements Payload.
func (*UpdateProgram) Kind() Kind { return KindUpdateProgram }

func (p *UpdateProgram) encode(e *encoder) {
	e.Str(p.Program)
	e.Bool(p.SetPolicy)
	p.Policy.encode(e)
	e.Bool(p.SetOperators)
	encodeAddresses(e, p.Operators)
	e.Address(p.NewOwner)
	e.Bool(p.Retire)
}

func (p *UpdateProgram) decode(d *decoder) {
	p.Program = d.Str(MaxSymbolLen)
	p.SetPolicy = d.Bool()
	p.Policy.decode(d)
	p.SetOperators = d.Bool()
	p.Operators = decodeAddresses(d, maxDecodeOperators)
	p.NewOwner = d.Address()
	p.Retire = d.Bool()
}

func (p *UpdateProgram) check() error {
	if err := checkSymbol("program", p.Program); err != nil {
		return err
	}
	if err := p.Policy.check(); err != nil {
		return err
	}
	if !p.SetPolicy && (p.Policy.PendingDays != 0 || p.Policy.ExpiryDays != 0 || p.Policy.TierWindowDays != 0 || len(p.Policy.Tiers) != 0) {
		return rejectf(ErrMalformed, "policy given without set_policy")
	}
	if !p.SetOperators && len(p.Operators) != 0 {
		return rejectf(ErrMalformed, "operators given without set_operators")
	}
	if !p.SetPolicy && !p.SetOperators && p.NewOwner == (Address{}) && !p.Retire {
		return rejectf(ErrMalformed, "update changes nothing")
	}
	return checkOperators(p.Operators)
}

// Credit is one customer's reward in an earn.
type Credit struct {
	To       Address `json:"to"`
	Amount   uint64  `json:"amount,string"`
	OrderRef string  `json:"order_ref"`
}

// Earn credits points of a program to one or many customers; owner or operator only.
type Earn struct {
	Program string   `json:"program"`
	Credits []Credit `json:"credits"`
}

// Kind implements Payload.
func (*Earn) Kind() Kind { return KindEarn }

func (p *Earn) encode(e *encoder) {
	e.Str(p.Program)
	e.U32(uint32(len(p.Credits)))
	for _, c := range p.Credits {
		e.Address(c.To)
		e.U64(c.Amount)
		e.Str(c.OrderRef)
	}
}

func (p *Earn) decode(d *decoder) {
	p.Program = d.Str(MaxSymbolLen)
	n := d.Count(maxDecodeCredits, 30)
	if n > 0 {
		p.Credits = make([]Credit, n)
	}
	for i := range p.Credits {
		p.Credits[i].To = d.Address()
		p.Credits[i].Amount = d.U64()
		p.Credits[i].OrderRef = d.Str(maxDecodeString)
	}
}

func (p *Earn) check() error {
	if err := checkSymbol("program", p.Program); err != nil {
		return err
	}
	if len(p.Credits) == 0 {
		return rejectf(ErrMalformed, "earn without credits")
	}
	if len(p.Credits) > maxDecodeCredits {
		return rejectf(ErrTooManyItems, "%d credits exceed %d", len(p.Credits), maxDecodeCredits)
	}
	for i, c := range p.Credits {
		if c.To == (Address{}) {
			return rejectf(ErrZeroAddress, "credit %d recipient", i)
		}
		if err := checkAmount(fmt.Sprintf("credit %d amount", i), c.Amount); err != nil {
			return err
		}
		if err := checkRef(fmt.Sprintf("credit %d order_ref", i), c.OrderRef); err != nil {
			return err
		}
	}
	return nil
}

// Reverse claws back a refunded order's points; owner or operator only.
type Reverse struct {
	Program  string `json:"program"`
	OrderRef string `json:"order_ref"`
	Amount   uint64 `json:"amount,string"`
}

// Kind implements Payload.
func (*Reverse) Kind() Kind { return KindReverse }

func (p *Reverse) encode(e *encoder) {
	e.Str(p.Program)
	e.Str(p.OrderRef)
	e.U64(p.Amount)
}

func (p *Reverse) decode(d *decoder) {
	p.Program = d.Str(MaxSymbolLen)
	p.OrderRef = d.Str(maxDecodeString)
	p.Amount = d.U64()
}

func (p *Reverse) check() error {
	if err := checkSymbol("program", p.Program); err != nil {
		return err
	}
	if err := checkRef("order_ref", p.OrderRef); err != nil {
		return err
	}
	return checkAmount("amount", p.Amount)
}

// Transfer moves available points of a program from the sender to another address.
type Transfer struct {
	Program string  `json:"program"`
	To      Address `json:"to"`
	Amount  uint64  `json:"amount,string"`
	Memo    string  `json:"memo"`
}

// Kind implements Payload.
func (*Transfer) Kind() Kind { return KindTransfer }

func (p *Transfer) encode(e *encoder) {
	e.Str(p.Program)
	e.Address(p.To)
	e.U64(p.Amount)
	e.Str(p.Memo)
}

func (p *Transfer) decode(d *decoder) {
	p.Program = d.Str(MaxSymbolLen)
	p.To = d.Address()
	p.Amount = d.U64()
	p.Memo = d.Str(maxDecodeString)
}

func (p *Transfer) check() error {
	if err := checkSymbol("program", p.Program); err != nil {
		return err
	}
	if p.To == (Address{}) {
		return rejectf(ErrZeroAddress, "recipient")
	}
	if err := checkAmount("amount", p.Amount); err != nil {
		return err
	}
	return checkString("memo", p.Memo, maxDecodeString)
}

// Redeem burns available points for a reward at the issuer.
type Redeem struct {
	Program   string `json:"program"`
	Amount    uint64 `json:"amount,string"`
	RewardRef string `json:"reward_ref"`
}

// Kind implements Payload.
func (*Redeem) Kind() Kind { return KindRedeem }

func (p *Redeem) encode(e *encoder) {
	e.Str(p.Program)
	e.U64(p.Amount)
	e.Str(p.RewardRef)
}

func (p *Redeem) decode(d *decoder) {
	p.Program = d.Str(MaxSymbolLen)
	p.Amount = d.U64()
	p.RewardRef = d.Str(maxDecodeString)
}

func (p *Redeem) check() error {
	if err := checkSymbol("program", p.Program); err != nil {
		return err
	}
	if err := checkAmount("amount", p.Amount); err != nil {
		return err
	}
	return checkRef("reward_ref", p.RewardRef)
}

// SetRate is one owner's side of an exchange-rate agreement for the route From → To. The
// sender must own From or To (or both). A route opens while both owners have set the
// identical Numerator/Denominator; Numerator 0 withdraws the sender's side. DailyCap (0 = none)
// bounds source points exchanged per UTC day; if both sides set one, the smaller applies.
type SetRate struct {
	From        string `json:"from"`
	To          string `json:"to"`
	Numerator   uint64 `json:"numerator,string"`
	Denominator uint64 `json:"denominator,string"`
	DailyCap    uint64 `json:"daily_cap,string"`
}

// Kind implements Payload.
func (*SetRate) Kind() Kind { return KindSetRate }

func (p *SetRate) encode(e *encoder) {
	e.Str(p.From)
	e.Str(p.To)
	e.U64(p.Numerator)
	e.U64(p.Denominator)
	e.U64(p.DailyCap)
}

func (p *SetRate) decode(d *decoder) {
	p.From = d.Str(MaxSymbolLen)
	p.To = d.Str(MaxSymbolLen)
	p.Numerator = d.U64()
	p.Denominator = d.U64()
	p.DailyCap = d.U64()
}

func (p *SetRate) check() error {
	if err := checkSymbol("from", p.From); err != nil {
		return err
	}
	if err := checkSymbol("to", p.To); err != nil {
		return err
	}
	if p.From == p.To {
		return rejectf(ErrSameProgram, "%s", p.From)
	}
	if p.Denominator == 0 {
		return rejectf(ErrBadRate, "denominator must be greater than zero")
	}
	if p.Numerator == 0 && p.DailyCap != 0 {
		return rejectf(ErrBadRate, "a withdrawn rate (numerator 0) carries no daily cap")
	}
	return nil
}

// Exchange burns Amount of From's available points and mints floor(Amount·num/den) of To.
type Exchange struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Amount uint64 `json:"amount,string"`
	MinOut uint64 `json:"min_out,string"`
}

// Kind implements Payload.
func (*Exchange) Kind() Kind { return KindExchange }

func (p *Exchange) encode(e *encoder) {
	e.Str(p.From)
	e.Str(p.To)
	e.U64(p.Amount)
	e.U64(p.MinOut)
}

func (p *Exchange) decode(d *decoder) {
	p.From = d.Str(MaxSymbolLen)
	p.To = d.Str(MaxSymbolLen)
	p.Amount = d.U64()
	p.MinOut = d.U64()
}

func (p *Exchange) check() error {
	if err := checkSymbol("from", p.From); err != nil {
		return err
	}
	if err := checkSymbol("to", p.To); err != nil {
		return err
	}
	if p.From == p.To {
		return rejectf(ErrSameProgram, "%s", p.From)
	}
	return checkAmount("amount", p.Amount)
}

// Settle is sent by the owner of the creditor Program to acknowledge Amount received from the
// owner of Counterparty, reducing the open settlement position Counterparty → Program.
type Settle struct {
	Program      string `json:"program"`
	Counterparty string `json:"counterparty"`
	Amount       uint64 `json:"amount,string"`
}

// Kind implements Payload.
func (*Settle) Kind() Kind { return KindSettle }

func (p *Settle) encode(e *encoder) {
	e.Str(p.Program)
	e.Str(p.Counterparty)
	e.U64(p.Amount)
}

func (p *Settle) decode(d *decoder) {
	p.Program = d.Str(MaxSymbolLen)
	p.Counterparty = d.Str(MaxSymbolLen)
	p.Amount = d.U64()
}

func (p *Settle) check() error {
	if err := checkSymbol("program", p.Program); err != nil {
		return err
	}
	if err := checkSymbol("counterparty", p.Counterparty); err != nil {
		return err
	}
	if p.Program == p.Counterparty {
		return rejectf(ErrSameProgram, "%s", p.Program)
	}
	return checkAmount("amount", p.Amount)
}

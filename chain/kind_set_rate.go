package chain

// KindSetRate is SetRate's number in the encoding; numbers are never reused.
const KindSetRate Kind = 7

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
	if err := checkPair("from", p.From, "to", p.To); err != nil {
		return err
	}
	if p.Denominator == 0 {
		return rejectf(ErrBadRate, "denominator must be greater than zero")
	}
	if p.Numerator == 0 && p.DailyCap != 0 {
		return rejectf(ErrBadRate, "a withdrawn rate (numerator 0) carries no daily cap")
	}
	return nil
}

func (*SetRate) eip712Structs() []eip712Struct {
	return []eip712Struct{
		txStruct("SetRate", []EIP712Field{
			{"from", "string"}, {"to", "string"}, {"numerator", "uint64"}, {"denominator", "uint64"},
			{"dailyCap", "uint64"},
		}),
	}
}

func (p *SetRate) hashStruct(h *hasher, tx *Tx) {
	from, to := h.symbol(p.From), h.symbol(p.To)
	h.begin(KindSetRate, tx)
	h.buf = appendHash(h.buf, from)
	h.buf = appendHash(h.buf, to)
	h.buf = appendUint(h.buf, p.Numerator)
	h.buf = appendUint(h.buf, p.Denominator)
	h.buf = appendUint(h.buf, p.DailyCap)
}

func (p *SetRate) typedData(t *typedDataBuilder) jsonObject {
	return jsonObject{
		{"from", t.str("from", p.From)},
		{"to", t.str("to", p.To)},
		{"numerator", u64JSON(p.Numerator)},
		{"denominator", u64JSON(p.Denominator)},
		{"dailyCap", u64JSON(p.DailyCap)},
	}
}

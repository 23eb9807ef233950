package chain

// KindExchange is Exchange's number in the encoding; numbers are never reused.
const KindExchange Kind = 8

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
	if err := checkPair("from", p.From, "to", p.To); err != nil {
		return err
	}
	return checkAmount("amount", p.Amount)
}

func (*Exchange) eip712Structs() []eip712Struct {
	return []eip712Struct{
		txStruct("Exchange", []EIP712Field{
			{"from", "string"}, {"to", "string"}, {"amount", "uint64"}, {"minOut", "uint64"},
		}),
	}
}

func (p *Exchange) hashStruct(h *hasher, tx *Tx) {
	from, to := h.symbol(p.From), h.symbol(p.To)
	h.begin(KindExchange, tx)
	h.buf = appendHash(h.buf, from)
	h.buf = appendHash(h.buf, to)
	h.buf = appendUint(h.buf, p.Amount)
	h.buf = appendUint(h.buf, p.MinOut)
}

func (p *Exchange) typedData(t *typedDataBuilder) jsonObject {
	return jsonObject{
		{"from", t.str("from", p.From)},
		{"to", t.str("to", p.To)},
		{"amount", u64JSON(p.Amount)},
		{"minOut", u64JSON(p.MinOut)},
	}
}

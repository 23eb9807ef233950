package chain

// KindReverse is Reverse's number in the encoding; numbers are never reused.
const KindReverse Kind = 4

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

func (*Reverse) eip712Structs() []eip712Struct {
	return []eip712Struct{
		txStruct("Reverse", []EIP712Field{
			{"program", "string"}, {"orderRef", "string"}, {"amount", "uint64"},
		}),
	}
}

func (p *Reverse) hashStruct(h *hasher, tx *Tx) {
	program, ref := h.symbol(p.Program), h.str(p.OrderRef)
	h.begin(KindReverse, tx)
	h.buf = appendHash(h.buf, program)
	h.buf = appendHash(h.buf, ref)
	h.buf = appendUint(h.buf, p.Amount)
}

func (p *Reverse) typedData(t *typedDataBuilder) jsonObject {
	return jsonObject{
		{"program", t.str("program", p.Program)},
		{"orderRef", t.str("order_ref", p.OrderRef)},
		{"amount", u64JSON(p.Amount)},
	}
}

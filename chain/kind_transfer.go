package chain

// KindTransfer is Transfer's number in the encoding; numbers are never reused.
const KindTransfer Kind = 5

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

func (*Transfer) eip712Structs() []eip712Struct {
	return []eip712Struct{
		txStruct("Transfer", []EIP712Field{
			{"program", "string"}, {"to", "address"}, {"amount", "uint64"}, {"memo", "string"},
		}),
	}
}

func (p *Transfer) hashStruct(h *hasher, tx *Tx) {
	program, memo := h.symbol(p.Program), h.str(p.Memo)
	h.begin(KindTransfer, tx)
	h.buf = appendHash(h.buf, program)
	h.buf = appendAddress(h.buf, p.To)
	h.buf = appendUint(h.buf, p.Amount)
	h.buf = appendHash(h.buf, memo)
}

func (p *Transfer) typedData(t *typedDataBuilder) jsonObject {
	return jsonObject{
		{"program", t.str("program", p.Program)},
		{"to", p.To.Hex()},
		{"amount", u64JSON(p.Amount)},
		{"memo", t.str("memo", p.Memo)},
	}
}

package chain

// KindSettle is Settle's number in the encoding; numbers are never reused.
const KindSettle Kind = 9

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
	if err := checkPair("program", p.Program, "counterparty", p.Counterparty); err != nil {
		return err
	}
	return checkAmount("amount", p.Amount)
}

func (*Settle) eip712Structs() []eip712Struct {
	return []eip712Struct{
		txStruct("Settle", []EIP712Field{
			{"program", "string"}, {"counterparty", "string"}, {"amount", "uint64"},
		}),
	}
}

func (p *Settle) hashStruct(h *hasher, tx *Tx) {
	program, cp := h.symbol(p.Program), h.symbol(p.Counterparty)
	h.begin(KindSettle, tx)
	h.buf = appendHash(h.buf, program)
	h.buf = appendHash(h.buf, cp)
	h.buf = appendUint(h.buf, p.Amount)
}

func (p *Settle) typedData(t *typedDataBuilder) jsonObject {
	return jsonObject{
		{"program", t.str("program", p.Program)},
		{"counterparty", t.str("counterparty", p.Counterparty)},
		{"amount", u64JSON(p.Amount)},
	}
}

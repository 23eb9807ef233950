package chain

// KindRegisterProgram is RegisterProgram's number in the encoding; numbers are never reused.
const KindRegisterProgram Kind = 1

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

func (*RegisterProgram) eip712Structs() []eip712Struct {
	return []eip712Struct{
		txStruct("RegisterProgram", []EIP712Field{
			{"symbol", "string"}, {"name", "string"}, {"policy", "Policy"}, {"operators", "address[]"},
		}),
	}
}

func (p *RegisterProgram) hashStruct(h *hasher, tx *Tx) {
	symbol, name := h.symbol(p.Symbol), h.str(p.Name)
	policy, ops := h.policy(&p.Policy), h.addresses(p.Operators)
	h.begin(KindRegisterProgram, tx)
	h.buf = appendHash(h.buf, symbol)
	h.buf = appendHash(h.buf, name)
	h.buf = appendHash(h.buf, policy)
	h.buf = appendHash(h.buf, ops)
}

func (p *RegisterProgram) typedData(t *typedDataBuilder) jsonObject {
	return jsonObject{
		{"symbol", t.str("symbol", p.Symbol)},
		{"name", t.str("name", p.Name)},
		{"policy", t.policy(&p.Policy)},
		{"operators", addressesJSON(p.Operators)},
	}
}

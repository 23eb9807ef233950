package chain

// KindUpdateProgram is UpdateProgram's number in the encoding; numbers are never reused.
const KindUpdateProgram Kind = 2

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

func (*UpdateProgram) eip712Structs() []eip712Struct {
	return []eip712Struct{
		txStruct("UpdateProgram", []EIP712Field{
			{"program", "string"}, {"setPolicy", "bool"}, {"policy", "Policy"}, {"setOperators", "bool"},
			{"operators", "address[]"}, {"newOwner", "address"}, {"retire", "bool"},
		}),
	}
}

func (p *UpdateProgram) hashStruct(h *hasher, tx *Tx) {
	program := h.symbol(p.Program)
	policy, ops := h.policy(&p.Policy), h.addresses(p.Operators)
	h.begin(KindUpdateProgram, tx)
	h.buf = appendHash(h.buf, program)
	h.buf = appendBool(h.buf, p.SetPolicy)
	h.buf = appendHash(h.buf, policy)
	h.buf = appendBool(h.buf, p.SetOperators)
	h.buf = appendHash(h.buf, ops)
	h.buf = appendAddress(h.buf, p.NewOwner)
	h.buf = appendBool(h.buf, p.Retire)
}

func (p *UpdateProgram) typedData(t *typedDataBuilder) jsonObject {
	return jsonObject{
		{"program", t.str("program", p.Program)},
		{"setPolicy", p.SetPolicy},
		{"policy", t.policy(&p.Policy)},
		{"setOperators", p.SetOperators},
		{"operators", addressesJSON(p.Operators)},
		{"newOwner", p.NewOwner.Hex()},
		{"retire", p.Retire},
	}
}

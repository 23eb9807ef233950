package chain

// KindPropose is Propose's number in the encoding; numbers are never reused.
const KindPropose Kind = 10

// Propose is a partner's governance proposal (Version2, ADR 0009): admit Partner as Name,
// remove Partner, or rotate Partner's key to NewKey. Recording it counts as its proposer's
// approval; it executes once more than two thirds of the partners approve before its
// deadline. The fields an action does not use must be empty.
type Propose struct {
	Action  Action  `json:"action"`
	Partner Address `json:"partner"`
	Name    string  `json:"name"`
	NewKey  Address `json:"new_key"`
}

// Kind implements Payload.
func (*Propose) Kind() Kind { return KindPropose }

func (p *Propose) encode(e *encoder) {
	e.U8(uint8(p.Action))
	e.Address(p.Partner)
	e.Str(p.Name)
	e.Address(p.NewKey)
}

func (p *Propose) decode(d *decoder) {
	p.Action = Action(d.U8())
	p.Partner = d.Address()
	p.Name = d.Str(maxPartnerName)
	p.NewKey = d.Address()
}

func (p *Propose) check() error {
	if !p.Action.valid() || p.Action.aboutValidators() {
		// Validator actions carry an entry and a proof: they are propose_validator's.
		return rejectf(ErrMalformed, "%s is not a partner action (admit_partner, remove_partner, rotate_owner_key)", p.Action)
	}
	if p.Partner == (Address{}) {
		return rejectf(ErrZeroAddress, "partner")
	}
	switch p.Action {
	case ActionAdmitPartner:
		if err := checkPartnerName(p.Name); err != nil {
			return err
		}
	case ActionRemovePartner, ActionRotateOwnerKey:
		if p.Name != "" {
			return rejectf(ErrMalformed, "%s takes no name", p.Action)
		}
	}
	switch {
	case p.Action == ActionRotateOwnerKey && p.NewKey == (Address{}):
		return rejectf(ErrZeroAddress, "new_key")
	case p.Action == ActionRotateOwnerKey && p.NewKey == p.Partner:
		return rejectf(ErrMalformed, "new_key is the partner's key")
	case p.Action != ActionRotateOwnerKey && p.NewKey != (Address{}):
		return rejectf(ErrMalformed, "%s takes no new_key", p.Action)
	}
	return nil
}

func (*Propose) eip712Structs() []eip712Struct {
	return []eip712Struct{
		txStruct("Propose", []EIP712Field{
			{"action", "string"}, {"partner", "address"}, {"name", "string"}, {"newKey", "address"},
		}),
	}
}

func (p *Propose) hashStruct(h *hasher, tx *Tx) {
	action, name := h.str(p.Action.String()), h.str(p.Name)
	h.begin(KindPropose, tx)
	h.buf = appendHash(h.buf, action)
	h.buf = appendAddress(h.buf, p.Partner)
	h.buf = appendHash(h.buf, name)
	h.buf = appendAddress(h.buf, p.NewKey)
}

func (p *Propose) typedData(t *typedDataBuilder) jsonObject {
	return jsonObject{
		{"action", p.Action.String()},
		{"partner", p.Partner.Hex()},
		{"name", t.str("name", p.Name)},
		{"newKey", p.NewKey.Hex()},
	}
}

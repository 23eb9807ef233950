package chain

// KindRedeem is Redeem's number in the encoding; numbers are never reused.
const KindRedeem Kind = 6

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

func (*Redeem) eip712Structs() []eip712Struct {
	return []eip712Struct{
		txStruct("Redeem", []EIP712Field{
			{"program", "string"}, {"amount", "uint64"}, {"rewardRef", "string"},
		}),
	}
}

func (p *Redeem) hashStruct(h *hasher, tx *Tx) {
	program, ref := h.symbol(p.Program), h.str(p.RewardRef)
	h.begin(KindRedeem, tx)
	h.buf = appendHash(h.buf, program)
	h.buf = appendUint(h.buf, p.Amount)
	h.buf = appendHash(h.buf, ref)
}

func (p *Redeem) typedData(t *typedDataBuilder) jsonObject {
	return jsonObject{
		{"program", t.str("program", p.Program)},
		{"amount", u64JSON(p.Amount)},
		{"rewardRef", t.str("reward_ref", p.RewardRef)},
	}
}

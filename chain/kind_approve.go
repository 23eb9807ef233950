package chain

// KindApprove is Approve's number in the encoding; numbers are never reused.
const KindApprove Kind = 11

// Approve is a partner's approval of an open governance proposal (Version2, ADR 0009). The
// approval that makes the approvers more than two thirds of the partners executes it.
type Approve struct {
	Proposal uint64 `json:"proposal,string"`
}

// Kind implements Payload.
func (*Approve) Kind() Kind { return KindApprove }

func (p *Approve) encode(e *encoder) { e.U64(p.Proposal) }

func (p *Approve) decode(d *decoder) { p.Proposal = d.U64() }

func (p *Approve) check() error {
	if p.Proposal == 0 {
		return rejectf(ErrUnknownProposal, "proposal ids start at 1")
	}
	return nil
}

func (*Approve) eip712Structs() []eip712Struct {
	return []eip712Struct{txStruct("Approve", []EIP712Field{{"proposal", "uint64"}})}
}

func (p *Approve) hashStruct(h *hasher, tx *Tx) {
	h.begin(KindApprove, tx)
	h.buf = appendUint(h.buf, p.Proposal)
}

func (p *Approve) typedData(*typedDataBuilder) jsonObject {
	return jsonObject{{"proposal", u64JSON(p.Proposal)}}
}

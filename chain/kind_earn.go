package chain

import (
	"fmt"

	"github.com/ethereum/go-ethereum/crypto"
)

// KindEarn is Earn's number in the encoding; numbers are never reused.
const KindEarn Kind = 3

// Credit is one customer's reward in an earn.
type Credit struct {
	To       Address `json:"to"`
	Amount   uint64  `json:"amount,string"`
	OrderRef string  `json:"order_ref"`
}

// Earn credits points of a program to one or many customers; owner or operator only.
type Earn struct {
	Program string   `json:"program"`
	Credits []Credit `json:"credits"`
}

// Kind implements Payload.
func (*Earn) Kind() Kind { return KindEarn }

func (p *Earn) encode(e *encoder) {
	e.Str(p.Program)
	e.U32(uint32(len(p.Credits)))
	for _, c := range p.Credits {
		e.Address(c.To)
		e.U64(c.Amount)
		e.Str(c.OrderRef)
	}
}

func (p *Earn) decode(d *decoder) {
	p.Program = d.Str(MaxSymbolLen)
	n := d.Count(maxDecodeCredits, 30)
	if n > 0 {
		p.Credits = make([]Credit, n)
	}
	for i := range p.Credits {
		p.Credits[i].To = d.Address()
		p.Credits[i].Amount = d.U64()
		p.Credits[i].OrderRef = d.Str(maxDecodeString)
	}
}

func (p *Earn) check() error {
	if err := checkSymbol("program", p.Program); err != nil {
		return err
	}
	if len(p.Credits) == 0 {
		return rejectf(ErrMalformed, "earn without credits")
	}
	if len(p.Credits) > maxDecodeCredits {
		return rejectf(ErrTooManyItems, "%d credits exceed %d", len(p.Credits), maxDecodeCredits)
	}
	for i, c := range p.Credits {
		if c.To == (Address{}) {
			return rejectf(ErrZeroAddress, "credit %d recipient", i)
		}
		if err := checkAmount(fmt.Sprintf("credit %d amount", i), c.Amount); err != nil {
			return err
		}
		if err := checkRef(fmt.Sprintf("credit %d order_ref", i), c.OrderRef); err != nil {
			return err
		}
	}
	return nil
}

func (*Earn) eip712Structs() []eip712Struct {
	return []eip712Struct{
		txStruct("Earn", []EIP712Field{
			{"program", "string"}, {"credits", "Credit[]"},
		}),
		{"Credit", []EIP712Field{{"to", "address"}, {"amount", "uint64"}, {"orderRef", "string"}}},
	}
}

// typeHashCredit is the hash of Credit's type, computed once.
var typeHashCredit = crypto.Keccak256Hash([]byte(eip712EncodeType("Credit")))

// credit writes the encodeData of a Credit to buf.
func (h *hasher) credit(c *Credit) {
	ref := h.str(c.OrderRef)
	h.buf = appendHash(h.buf[:0], typeHashCredit)
	h.buf = appendAddress(h.buf, c.To)
	h.buf = appendUint(h.buf, c.Amount)
	h.buf = appendHash(h.buf, ref)
}

func (p *Earn) hashStruct(h *hasher, tx *Tx) {
	program, credits := h.symbol(p.Program), structArray(h, p.Credits, (*hasher).credit)
	h.begin(KindEarn, tx)
	h.buf = appendHash(h.buf, program)
	h.buf = appendHash(h.buf, credits)
}

func (p *Earn) typedData(t *typedDataBuilder) jsonObject {
	credits := make([]jsonObject, len(p.Credits))
	for i, c := range p.Credits {
		credits[i] = jsonObject{
			{"to", c.To.Hex()},
			{"amount", u64JSON(c.Amount)},
			{"orderRef", t.str("order_ref", c.OrderRef)},
		}
	}
	return jsonObject{{"program", t.str("program", p.Program)}, {"credits", credits}}
}

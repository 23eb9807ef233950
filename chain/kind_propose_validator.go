package chain

import (
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
)

// KindProposeValidator is ProposeValidator's number in the encoding; numbers are never
// reused.
const KindProposeValidator Kind = 12

// ProposeValidator is a partner's proposal to change the validator set (Version3, ADR 0003):
// add the validator Entry describes, remove Validator, or rotate Validator's consensus key to
// Entry's. Partners approve it with Approve, by the rules of partner proposals (ADR 0009); it
// executes in the block H whose approval passes it, and the new set certifies blocks from
// H+ActivationDelay on. Adding or rotating carries Proof: Entry's own key signing Entry
// under this chain's EIP-712 domain (PossessionDigest), so nobody names a key they do not
// hold.
type ProposeValidator struct {
	Action    Action        `json:"action"`
	Validator Address       `json:"validator"`       // remove, rotate: the validator's consensus address
	Entry     *ValidatorKey `json:"entry,omitempty"` // add, rotate: the validator as it will be
	Proof     hexutil.Bytes `json:"proof,omitempty"` // add, rotate: Entry's key's signature of PossessionDigest
}

// ValidatorKey is a validator entry as a proposal names it: the chain derives the address
// from the key. It is also the EIP-712 struct the key signs to prove possession.
type ValidatorKey struct {
	Name       string        `json:"name"`
	Partner    Address       `json:"partner"`
	PubKey     hexutil.Bytes `json:"pub_key"` // 33-byte compressed secp256k1 key
	Multiaddrs []string      `json:"multiaddrs"`
}

// Validator is the entry as the validator set holds it.
func (k *ValidatorKey) Validator() (Validator, error) {
	pub, err := crypto.DecompressPubkey(k.PubKey)
	if err != nil {
		return Validator{}, rejectf(ErrMalformed, "validator pub_key: %v", err)
	}
	return Validator{Name: k.Name, Partner: k.Partner, PubKey: k.PubKey, Address: crypto.PubkeyToAddress(*pub), Addrs: k.Multiaddrs}, nil
}

// Kind implements Payload.
func (*ProposeValidator) Kind() Kind { return KindProposeValidator }

func (p *ProposeValidator) encode(e *encoder) {
	e.U8(uint8(p.Action))
	e.Address(p.Validator)
	encodeEntry(e, p.Entry)
	e.Bytes(p.Proof)
}

// encodeEntry writes an optional entry: a presence flag, then its fields. The proposal kind
// and the proposal record (governance.go) both carry one this way.
func encodeEntry(e *encoder, k *ValidatorKey) {
	e.Bool(k != nil)
	if k != nil {
		k.encode(e)
	}
}

// decodeEntry reads what encodeEntry wrote.
func decodeEntry(d *decoder) *ValidatorKey {
	if !d.Bool() {
		return nil
	}
	k := &ValidatorKey{Name: d.Str(maxValidatorName), Partner: d.Address(), PubKey: d.Bytes(65)}
	n := d.Count(maxValidatorAddrs, 4)
	for i := 0; i < n && d.Err == nil; i++ {
		k.Multiaddrs = append(k.Multiaddrs, d.Str(maxValidatorAddr))
	}
	return k
}

func (k *ValidatorKey) encode(e *encoder) {
	e.Str(k.Name)
	e.Address(k.Partner)
	e.Bytes(k.PubKey)
	e.U32(uint32(len(k.Multiaddrs)))
	for _, a := range k.Multiaddrs {
		e.Str(a)
	}
}

func (p *ProposeValidator) decode(d *decoder) {
	p.Action = Action(d.U8())
	p.Validator = d.Address()
	p.Entry = decodeEntry(d)
	p.Proof = d.Bytes(65)
}

func (p *ProposeValidator) check() error {
	if !p.Action.valid() || !p.Action.aboutValidators() {
		return rejectf(ErrMalformed, "%s is not a validator action (add_validator, remove_validator, rotate_validator_key)", p.Action)
	}
	withEntry := p.Action != ActionRemoveValidator
	switch {
	case p.Action == ActionAddValidator && p.Validator != (Address{}):
		return rejectf(ErrMalformed, "add_validator names the validator in its entry, not in validator")
	case p.Action != ActionAddValidator && p.Validator == (Address{}):
		return rejectf(ErrZeroAddress, "validator")
	case withEntry && p.Entry == nil:
		return rejectf(ErrMalformed, "%s needs the validator's entry", p.Action)
	case !withEntry && (p.Entry != nil || len(p.Proof) != 0):
		return rejectf(ErrMalformed, "remove_validator takes no entry and no proof")
	}
	if !withEntry {
		return nil
	}
	if err := p.Entry.Check(); err != nil {
		return err
	}
	if len(p.Proof) != 65 {
		return rejectf(ErrBadPossession, "proof of %d bytes, want a 65-byte signature", len(p.Proof))
	}
	if err := checkSigShape([65]byte(p.Proof)); err != nil {
		return rejectf(ErrBadPossession, "%v", err)
	}
	if v, _ := p.Entry.Validator(); p.Action == ActionRotateValidatorKey && v.Address == p.Validator {
		return rejectf(ErrMalformed, "the new key is the validator's key")
	}
	return nil
}

// Check is what a validator entry must be whatever the state: named, run by a partner, a
// valid key, and multiaddrs the chain reads as dialable (checkDialAddr). propose_validator
// runs it; a tool that writes an entry runs it first, so a mistake shows there.
func (k *ValidatorKey) Check() error {
	if k.Name == "" {
		return rejectf(ErrMalformed, "a validator needs a name")
	}
	if k.Partner == (Address{}) {
		return rejectf(ErrZeroAddress, "entry partner")
	}
	if len(k.PubKey) != 33 {
		return rejectf(ErrMalformed, "validator pub_key of %d bytes, want 33 (compressed)", len(k.PubKey))
	}
	if _, err := k.Validator(); err != nil {
		return err
	}
	if len(k.Multiaddrs) > maxValidatorAddrs {
		return rejectf(ErrTooManyItems, "%d multiaddrs, at most %d", len(k.Multiaddrs), maxValidatorAddrs)
	}
	for _, a := range k.Multiaddrs {
		if err := checkDialAddr(a); err != nil {
			return err
		}
	}
	return checkValidatorText(Validator{Name: k.Name, Addrs: k.Multiaddrs})
}

func (*ProposeValidator) eip712Structs() []eip712Struct {
	return []eip712Struct{
		txStruct("ProposeValidator", []EIP712Field{
			{"action", "string"}, {"validator", "address"}, {"entry", "ValidatorKey"}, {"proof", "bytes"},
		}),
		{"ValidatorKey", []EIP712Field{
			{"name", "string"}, {"partner", "address"}, {"pubKey", "bytes"}, {"multiaddrs", "string[]"},
		}},
	}
}

func (p *ProposeValidator) hashStruct(h *hasher, tx *Tx) {
	entry := h.validatorKey(p.Entry)
	action, proof := h.str(p.Action.String()), h.sum(p.Proof)
	h.begin(KindProposeValidator, tx)
	h.buf = appendHash(h.buf, action)
	h.buf = appendAddress(h.buf, p.Validator)
	h.buf = appendHash(h.buf, entry)
	h.buf = appendHash(h.buf, proof)
}

// validatorKey is hashStruct(ValidatorKey) of k; a nil entry (remove_validator's) hashes as
// the zero entry, the only way EIP-712 has to say "none". It uses every buffer but arr's
// result, so call it before assembling the enclosing struct.
func (h *hasher) validatorKey(k *ValidatorKey) Hash {
	if k == nil {
		k = &ValidatorKey{}
	}
	addrs := hashEmptyString
	if len(k.Multiaddrs) > 0 {
		h.arr.Reset()
		for _, a := range k.Multiaddrs {
			h.out = h.str(a) // through h.out: a local would escape through the interface
			h.arr.Write(h.out[:])
		}
		h.arr.Read(h.out[:])
		addrs = Hash(h.out)
	}
	name, pub := h.str(k.Name), h.sum(k.PubKey)
	h.buf = appendHash(h.buf[:0], typeHashValidatorKey)
	h.buf = appendHash(h.buf, name)
	h.buf = appendAddress(h.buf, k.Partner)
	h.buf = appendHash(h.buf, pub)
	h.buf = appendHash(h.buf, addrs)
	return h.sum(h.buf)
}

var typeHashValidatorKey = crypto.Keccak256Hash([]byte(eip712EncodeType("ValidatorKey")))

func (p *ProposeValidator) typedData(t *typedDataBuilder) jsonObject {
	return jsonObject{
		{"action", p.Action.String()},
		{"validator", p.Validator.Hex()},
		{"entry", validatorKeyJSON(t, p.Entry)},
		{"proof", hexutil.Bytes(p.Proof).String()},
	}
}

func validatorKeyJSON(t *typedDataBuilder, k *ValidatorKey) jsonObject {
	if k == nil {
		k = &ValidatorKey{}
	}
	addrs := make([]string, len(k.Multiaddrs))
	for i, a := range k.Multiaddrs {
		addrs[i] = t.str("multiaddr", a)
	}
	return jsonObject{
		{"name", t.str("name", k.Name)},
		{"partner", k.Partner.Hex()},
		{"pubKey", hexutil.Bytes(k.PubKey).String()},
		{"multiaddrs", addrs},
	}
}

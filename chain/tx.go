package chain

import (
	"fmt"
	"sync/atomic"

	"github.com/ethereum/go-ethereum/crypto"
)

// Tx is a signed transaction. Build one with NewTx, sign it with a Signer; a decoded Tx is
// immutable (its hash is cached), so do not modify fields of a Tx after hashing it.
type Tx struct {
	ChainID    uint64
	Nonce      uint64
	ValidUntil uint64 // block time after which the tx is invalid; 0 = no limit
	Payload    Payload
	Sig        [65]byte // r ‖ s ‖ v, v ∈ {27, 28}

	hash atomic.Pointer[Hash]
	size atomic.Int64
}

// NewTx returns an unsigned transaction.
func NewTx(chainID, nonce, validUntil uint64, p Payload) *Tx {
	return &Tx{ChainID: chainID, Nonce: nonce, ValidUntil: validUntil, Payload: p}
}

// Kind is the kind of the payload.
func (tx *Tx) Kind() Kind { return tx.Payload.Kind() }

// Hash is the transaction id: keccak256 of the canonical encoding, signature included.
func (tx *Tx) Hash() Hash {
	if h := tx.hash.Load(); h != nil {
		return *h
	}
	enc := tx.Encode()
	h := crypto.Keccak256Hash(enc)
	// Size first: a reader that sees the hash cached must also see the size.
	tx.size.Store(int64(len(enc)))
	tx.hash.Store(&h)
	return h
}

// Size is the length of the canonical encoding in bytes.
func (tx *Tx) Size() int {
	if s := tx.size.Load(); s != 0 {
		return int(s)
	}
	n := int64(len(tx.Encode()))
	tx.size.Store(n)
	return int(n)
}

// Encode returns the canonical binary encoding:
// 'T' 1 kind chain_id nonce valid_until payload signature.
func (tx *Tx) Encode() []byte {
	e := encoder{Buf: make([]byte, 0, 160)}
	tx.encodeTo(&e)
	return e.Buf
}

func (tx *Tx) encodeTo(e *encoder) {
	e.U8(tagTx)
	e.U8(encodingVersion)
	e.U8(uint8(tx.Payload.Kind()))
	e.U64(tx.ChainID)
	e.U64(tx.Nonce)
	e.U64(tx.ValidUntil)
	tx.Payload.encode(e)
	e.Buf = append(e.Buf, tx.Sig[:]...)
}

// DecodeTx strictly decodes a canonical transaction and runs the stateless checks (field
// bounds, symbols, amounts, signature shape). It does not verify the signature.
func DecodeTx(b []byte) (*Tx, error) {
	if len(b) > MaxTxBytes {
		return nil, fmt.Errorf("%w: transaction of %d bytes exceeds %d", ErrTooLarge, len(b), MaxTxBytes)
	}
	d := newDecoder(b)
	tx, err := decodeTx(&d)
	if err != nil {
		return nil, err
	}
	if err := d.Finish(); err != nil {
		return nil, err
	}
	if err := tx.Check(); err != nil {
		return nil, err
	}
	h := crypto.Keccak256Hash(b)
	tx.size.Store(int64(len(b)))
	tx.hash.Store(&h)
	return tx, nil
}

func decodeTx(d *decoder) (*Tx, error) {
	if tag := d.U8(); d.Err == nil && tag != tagTx {
		return nil, fmt.Errorf("%w: not a transaction (tag %#x)", ErrMalformed, tag)
	}
	if v := d.U8(); d.Err == nil && v != encodingVersion {
		return nil, fmt.Errorf("%w: transaction version %d", ErrUnknownVersion, v)
	}
	kind := Kind(d.U8())
	if d.Err != nil {
		return nil, d.Err
	}
	p := newPayload(kind)
	if p == nil {
		return nil, fmt.Errorf("%w: %d", ErrUnknownKind, uint8(kind))
	}
	tx := &Tx{ChainID: d.U64(), Nonce: d.U64(), ValidUntil: d.U64(), Payload: p}
	p.decode(d)
	copy(tx.Sig[:], d.Take(65))
	if d.Err != nil {
		return nil, d.Err
	}
	return tx, nil
}

// Check is the stateless validation of a transaction: payload bounds and the signature's
// shape (low-S, v of 27 or 28). Signature recovery happens in the Signer.
func (tx *Tx) Check() error {
	if tx.Payload == nil {
		return fmt.Errorf("%w: missing payload", ErrMalformed)
	}
	if err := tx.Payload.check(); err != nil {
		return err
	}
	return checkSigShape(tx.Sig)
}

package chain

import (
	"encoding/json"
	"fmt"

	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/loyal-ledger/loyal/internal/jsonstrict"
)

// txJSON is the API form of a transaction. Integers travel as decimal strings so that no
// JSON client rounds a uint64; the body is the kind's payload with its own field names.
type txJSON struct {
	Kind       string          `json:"kind"`
	ChainID    uint64          `json:"chain_id,string"`
	Nonce      uint64          `json:"nonce,string"`
	ValidUntil uint64          `json:"valid_until,string"`
	Body       json.RawMessage `json:"body"`
	Signature  hexutil.Bytes   `json:"signature"`
	Hash       *Hash           `json:"hash,omitempty"` // output only; ignored on input
}

// MarshalJSON encodes the API form, including the tx id.
func (tx *Tx) MarshalJSON() ([]byte, error) {
	body, err := json.Marshal(tx.Payload)
	if err != nil {
		return nil, err
	}
	h := tx.Hash()
	return json.Marshal(txJSON{
		Kind: tx.Kind().String(), ChainID: tx.ChainID, Nonce: tx.Nonce, ValidUntil: tx.ValidUntil,
		Body: body, Signature: tx.Sig[:], Hash: &h,
	})
}

// UnmarshalJSON decodes the API form strictly (unknown fields, duplicate keys, keys in another
// case and integers with leading zeros or signs are errors) and runs the same
// stateless checks as DecodeTx. A "hash" field, if present, must match the computed id.
func (tx *Tx) UnmarshalJSON(b []byte) error {
	var j txJSON
	if err := strictJSON(b, &j); err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	kind, err := ParseKind(j.Kind)
	if err != nil {
		return err
	}
	p := newPayload(kind)
	if err := strictJSON(j.Body, p); err != nil {
		return fmt.Errorf("%w: %s body: %v", ErrMalformed, kind, err)
	}
	if len(j.Signature) != 65 {
		return fmt.Errorf("%w: signature must be 65 bytes, got %d", ErrBadSignature, len(j.Signature))
	}
	*tx = Tx{ChainID: j.ChainID, Nonce: j.Nonce, ValidUntil: j.ValidUntil, Payload: p}
	copy(tx.Sig[:], j.Signature)
	if err := tx.Check(); err != nil {
		return err
	}
	if n := len(tx.Encode()); n > MaxTxBytes {
		return fmt.Errorf("%w: transaction of %d bytes exceeds %d", ErrTooLarge, n, MaxTxBytes)
	}
	if j.Hash != nil && *j.Hash != tx.Hash() {
		return fmt.Errorf("%w: hash %s does not match the transaction (%s)", ErrMalformed, j.Hash, tx.Hash())
	}
	return nil
}

// strictJSON decodes b into v refusing unknown fields, trailing data, duplicate keys, keys
// that match a field only case-insensitively and integer strings not in canonical decimal
// (see internal/jsonstrict): a transaction's JSON has one reading.
func strictJSON(b []byte, v any) error {
	return jsonstrict.Decode(b, v)
}

package chain

import (
	"bytes"
	"crypto/ecdsa"

	"github.com/ethereum/go-ethereum/crypto"
)

// Proof of possession (Version3, ADR 0003): a validator key enters the set only with its own
// signature of its entry, EIP-712 typed data of primary type ValidatorKey under the chain's
// domain (chain id, and the genesis hash as salt). So nobody can propose a key they do not
// hold (a key copied from another chain, or another partner's), and a proof made for one
// chain, or for another entry, proves nothing on this one.

// PossessionDigest is what the entry's key signs: keccak256(0x19 0x01 ‖ domain separator ‖
// hashStruct(ValidatorKey entry)).
func PossessionDigest(d Domain, k *ValidatorKey) Hash {
	h := getHasher()
	defer putHasher(h)
	m := h.validatorKey(k)
	return h.typedDigest(d.Separator(), m)
}

// SignPossession signs the entry with key, which must be the entry's.
func SignPossession(d Domain, k *ValidatorKey, key *ecdsa.PrivateKey) ([65]byte, error) {
	if !bytes.Equal(crypto.CompressPubkey(&key.PublicKey), k.PubKey) {
		return [65]byte{}, rejectf(ErrBadPossession, "the key signing is not the entry's")
	}
	return SignDigest(PossessionDigest(d, k), key)
}

// VerifyPossession checks that proof is the entry's key's signature of its PossessionDigest.
func VerifyPossession(d Domain, k *ValidatorKey, proof []byte) error {
	if len(proof) != 65 {
		return rejectf(ErrBadPossession, "proof of %d bytes", len(proof))
	}
	v, err := k.Validator()
	if err != nil {
		return err
	}
	signer, err := RecoverAddress(PossessionDigest(d, k), [65]byte(proof))
	if err != nil || signer != v.Address {
		return rejectf(ErrBadPossession, "the proof is not %s's signature of its entry on this chain", v.Address)
	}
	return nil
}

// PossessionTypedDataJSON is the eth_signTypedData_v4 request that makes the proof: any
// Ethereum tool holding the key can sign it.
func PossessionTypedDataJSON(d Domain, k *ValidatorKey) ([]byte, error) {
	var t typedDataBuilder
	msg := validatorKeyJSON(&t, k)
	if t.err != nil {
		return nil, t.err
	}
	var b bytes.Buffer
	err := writeJSON(&b, jsonObject{
		{"types", map[string][]EIP712Field{
			"EIP712Domain": eip712Types["EIP712Domain"],
			"ValidatorKey": eip712Types["ValidatorKey"],
		}},
		{"primaryType", "ValidatorKey"},
		{"domain", d},
		{"message", msg},
	})
	if err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

package chain

import (
	"math/big"

	"github.com/ethereum/go-ethereum/crypto"
)

// checkSigShape rejects signatures that cannot be valid or are malleable: r and s must be in
// [1, n-1], s at most n/2 (low-S), and v 27 or 28.
func checkSigShape(sig [65]byte) error {
	v := sig[64]
	if v != 27 && v != 28 {
		return rejectf(ErrBadSignature, "v must be 27 or 28, got %d", v)
	}
	r := new(big.Int).SetBytes(sig[:32])
	s := new(big.Int).SetBytes(sig[32:64])
	if !crypto.ValidateSignatureValues(v-27, r, s, true) {
		return rejectf(ErrBadSignature, "r or s out of range or s not low")
	}
	return nil
}

package chain

import (
	"crypto/ecdsa"
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/crypto"
)

// errAlreadyHashed is a programming error, not a rejection, so it has no stable code.
var errAlreadyHashed = errors.New("chain: transaction already hashed: Sign must be called on a fresh unsigned Tx")

// Signer signs and verifies transactions of one network: the EIP-712 domain (chain id and
// genesis hash) is fixed at construction and its separator computed once. It holds no
// mutable state, so it is safe for concurrent use.
type Signer struct {
	domain Domain
	sep    Hash
}

// NewSigner returns the Signer of the network with this chain id and genesis hash. The
// genesis hash is the domain's salt, so networks that share a chain id (a testnet restarted
// from a new genesis, a fork) cannot replay each other's transactions.
func NewSigner(chainID uint64, genesisHash Hash) *Signer {
	d := Domain{ChainID: chainID, Salt: genesisHash}
	return &Signer{domain: d, sep: d.Separator()}
}

// ChainID is the chain id every transaction this Signer signs or accepts must carry.
func (s *Signer) ChainID() uint64 { return s.domain.ChainID }

// Domain is the EIP-712 domain, for TypedDataJSON and GET /v1/eip712.
func (s *Signer) Domain() Domain { return s.domain }

// Digest returns what the sender signs: the EIP-712 digest
// keccak256(0x19 0x01 ‖ domainSeparator ‖ hashStruct(message)), the same digest a wallet
// computes from TypedDataJSON. It does not look at tx.ChainID or tx.Sig. It panics if tx has
// no payload, which no Tx from NewTx with a payload or DecodeTx lacks; Sign and Sender report
// that case as an error instead.
func (s *Signer) Digest(tx *Tx) Hash {
	d, err := digest(s.sep, tx)
	if err != nil {
		panic(err)
	}
	return d
}

// Sign signs tx with key and sets tx.Sig. Because the tx id (Tx.Hash) covers the signature
// and is cached on first use, Sign must be called on a fresh unsigned Tx before anything
// hashes it; it fails rather than leave a stale cached id. It also fails with
// ErrWrongChainID if tx is for another chain. It does not run the stateless checks
// (Tx.Check): validating what is signed is the caller's business.
func (s *Signer) Sign(tx *Tx, key *ecdsa.PrivateKey) error {
	if tx.ChainID != s.domain.ChainID {
		return rejectf(ErrWrongChainID, "transaction for chain %d signed with the signer of chain %d", tx.ChainID, s.domain.ChainID)
	}
	if tx.hash.Load() != nil {
		return errAlreadyHashed
	}
	if tx.Payload == nil {
		return rejectf(ErrMalformed, "missing payload")
	}
	// Never sign what no node would accept.
	if err := tx.Payload.check(); err != nil {
		return err
	}
	d, err := digest(s.sep, tx)
	if err != nil {
		return err
	}
	sig, err := SignDigest(d, key)
	if err != nil {
		return err
	}
	tx.Sig = sig
	return nil
}

// Sender verifies tx's signature and returns the address that signed it. It fails with
// ErrWrongChainID if tx is for another chain and with ErrBadSignature if the signature is
// malformed, malleable (high S, v not 27 or 28) or recovers no key. A valid signature by the
// wrong key is not detected here: it recovers a different address, which the ledger then
// finds has the wrong nonce, balance or role. Sender caches nothing in tx; recovery is the
// expensive part of verifying a transaction (BenchmarkRecover), so callers recover once per tx
// and pass the sender along.
func (s *Signer) Sender(tx *Tx) (Address, error) {
	if tx.ChainID != s.domain.ChainID {
		return Address{}, rejectf(ErrWrongChainID, "transaction for chain %d, this network is chain %d", tx.ChainID, s.domain.ChainID)
	}
	d, err := digest(s.sep, tx)
	if err != nil {
		return Address{}, err
	}
	return RecoverAddress(d, tx.Sig)
}

// SignDigest signs a 32-byte digest with key and returns r ‖ s ‖ v with v 27 or 28, the form
// Ethereum wallets return. go-ethereum's signer is deterministic (RFC 6979) and always
// produces low S, so the result passes RecoverAddress. It is used for transactions and for
// anything else a key signs (votes).
func SignDigest(digest Hash, key *ecdsa.PrivateKey) ([65]byte, error) {
	var out [65]byte
	if key == nil {
		return out, fmt.Errorf("chain: sign: no private key")
	}
	sig, err := crypto.Sign(digest[:], key)
	if err != nil {
		return out, fmt.Errorf("chain: sign: %w", err)
	}
	copy(out[:], sig)
	out[64] += 27
	if err := checkSigShape(out); err != nil { // cannot happen with go-ethereum's signer
		return [65]byte{}, fmt.Errorf("chain: sign produced an invalid signature: %w", err)
	}
	return out, nil
}

// RecoverAddress returns the address whose key produced sig (r ‖ s ‖ v, v 27 or 28) over
// digest. It rejects malleable or malformed signatures (high S, r or s out of range, other v)
// with ErrBadSignature before recovery, so each message has exactly one valid signature per
// key. It uses libsecp256k1 when built with cgo, several times faster than pure Go
// (BENCHMARKS.md), which is why CI builds with CGO_ENABLED=1.
func RecoverAddress(digest Hash, sig [65]byte) (Address, error) {
	if err := checkSigShape(sig); err != nil {
		return Address{}, err
	}
	sig[64] -= 27 // the array is a copy: go-ethereum wants v 0 or 1
	pub, err := crypto.Ecrecover(digest[:], sig[:])
	if err != nil {
		return Address{}, rejectf(ErrBadSignature, "recovery failed: %v", err)
	}
	if len(pub) != 65 || pub[0] != 4 {
		return Address{}, rejectf(ErrBadSignature, "recovered a malformed public key")
	}
	var a Address
	h := crypto.Keccak256Hash(pub[1:])
	copy(a[:], h[12:])
	return a, nil
}

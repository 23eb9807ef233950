package chain

import (
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
)

// VoteType distinguishes prevotes from precommits in what validators sign.
type VoteType uint8

// Vote types.
const (
	Prevote   VoteType = 1
	Precommit VoteType = 2
)

// VoteDigest is what a validator signs for a vote: keccak256 over a tagged, versioned,
// fixed-width encoding of (chain id, vote type, height, round, block hash). A zero block
// hash is a vote for nil.
func VoteDigest(chainID uint64, t VoteType, height uint64, round uint32, block Hash) Hash {
	e := encoder{Buf: make([]byte, 0, 2+8+1+8+4+32)}
	e.U8(tagVote)
	e.U8(encodingVersion)
	e.U64(chainID)
	e.U8(uint8(t))
	e.U64(height)
	e.U32(round)
	e.Hash(block)
	return crypto.Keccak256Hash(e.Buf)
}

// CommitSig is one validator's precommit signature in a certificate.
type CommitSig struct {
	Validator Address  `json:"validator"`
	Sig       [65]byte `json:"sig"`
}

type commitSigJSON struct {
	Validator Address       `json:"validator"`
	Sig       hexutil.Bytes `json:"sig"`
}

// MarshalJSON writes the signature as 0x-hex.
func (s CommitSig) MarshalJSON() ([]byte, error) {
	return json.Marshal(commitSigJSON{Validator: s.Validator, Sig: s.Sig[:]})
}

// UnmarshalJSON reads the signature from 0x-hex; it must be 65 bytes.
func (s *CommitSig) UnmarshalJSON(b []byte) error {
	var j commitSigJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	if len(j.Sig) != 65 {
		return fmt.Errorf("%w: signature of %d bytes", ErrBadSignature, len(j.Sig))
	}
	s.Validator = j.Validator
	copy(s.Sig[:], j.Sig)
	return nil
}

// Commit is a commit certificate: precommits for BlockHash at (Height, Round) from more than
// two thirds of the validators. An auditor needs nothing else to check finality.
type Commit struct {
	Height    uint64      `json:"height,string"`
	Round     uint32      `json:"round"`
	BlockHash Hash        `json:"block_hash"`
	Sigs      []CommitSig `json:"sigs"` // ordered by validator index in genesis
}

// Encode is the canonical encoding: 'C' 1 height round hash count (address sig)*.
func (c *Commit) Encode() []byte {
	e := encoder{Buf: make([]byte, 0, 2+8+4+32+4+len(c.Sigs)*85)}
	e.U8(tagCommit)
	e.U8(encodingVersion)
	e.U64(c.Height)
	e.U32(c.Round)
	e.Hash(c.BlockHash)
	e.U32(uint32(len(c.Sigs)))
	for _, s := range c.Sigs {
		e.Address(s.Validator)
		e.Buf = append(e.Buf, s.Sig[:]...)
	}
	return e.Buf
}

// CommitSize is the encoded size of a certificate with n signatures.
func CommitSize(n int) int { return 2 + 8 + 4 + 32 + 4 + 85*n }

// Hash is keccak256 of the certificate's encoding; the next header commits to it.
func (c *Commit) Hash() Hash { return crypto.Keccak256Hash(c.Encode()) }

// DecodeCommit strictly decodes a certificate (signature validity is VerifyCommit's job).
func DecodeCommit(b []byte) (*Commit, error) {
	d := newDecoder(b)
	if tag := d.U8(); d.Err == nil && tag != tagCommit {
		d.Fail("not a commit (tag %#x)", tag)
	}
	if v := d.U8(); d.Err == nil && v != encodingVersion {
		return nil, fmt.Errorf("%w: commit version %d", ErrUnknownVersion, v)
	}
	c := &Commit{Height: d.U64(), Round: d.U32(), BlockHash: d.Hash()}
	n := d.Count(MaxValidators, 85)
	if n > 0 {
		c.Sigs = make([]CommitSig, n)
	}
	for i := range c.Sigs {
		c.Sigs[i].Validator = d.Address()
		copy(c.Sigs[i].Sig[:], d.Take(65))
	}
	if err := d.Finish(); err != nil {
		return nil, err
	}
	for i, s := range c.Sigs {
		if err := checkSigShape(s.Sig); err != nil {
			return nil, fmt.Errorf("%w: signature %d: %v", ErrBadCertificate, i, err)
		}
	}
	return c, nil
}

// SignVote signs a vote digest with a validator's consensus key.
func SignVote(key *ecdsa.PrivateKey, digest Hash) ([65]byte, error) { return SignDigest(digest, key) }

// RecoverVoter returns the address that signed a vote digest.
func RecoverVoter(digest Hash, sig [65]byte) (Address, error) { return RecoverAddress(digest, sig) }

// VerifyCommit checks that c finalizes the block with hash at height: every signature is a
// valid precommit of a distinct validator, listed in validator order, by more than two thirds
// of the validators. It needs only the validator set (from genesis) and the chain id.
func VerifyCommit(chainID uint64, validators []Validator, height uint64, hash Hash, c *Commit) error {
	if c == nil {
		return rejectf(ErrBadCertificate, "missing")
	}
	if c.Height != height || c.BlockHash != hash {
		return rejectf(ErrBadCertificate, "certifies %s at %d, want %s at %d", c.BlockHash, c.Height, hash, height)
	}
	digest := VoteDigest(chainID, Precommit, c.Height, c.Round, c.BlockHash)
	last := -1
	for i, s := range c.Sigs {
		idx := slices.IndexFunc(validators, func(v Validator) bool { return v.Address == s.Validator })
		if idx < 0 {
			return rejectf(ErrBadCertificate, "signature %d by non-validator %s", i, s.Validator)
		}
		if idx <= last {
			return rejectf(ErrBadCertificate, "signatures out of validator order or duplicated at %d", i)
		}
		last = idx
		signer, err := RecoverVoter(digest, s.Sig)
		if err != nil || signer != s.Validator {
			return rejectf(ErrBadCertificate, "signature %d does not verify for %s", i, s.Validator)
		}
	}
	if need := Quorum(len(validators)); len(c.Sigs) < need {
		return rejectf(ErrBadCertificate, "%d of %d validators signed, need %d", len(c.Sigs), len(validators), need)
	}
	return nil
}

// Quorum is the smallest number of validators that is more than two thirds of n.
func Quorum(n int) int { return n*2/3 + 1 }

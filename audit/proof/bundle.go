package proof

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/smt"
	"github.com/loyal-ledger/loyal/internal/jsonstrict"
)

// Format names a proof bundle's JSON; Version is the one this package writes and checks.
const (
	Format  = "loyal-proof"
	Version = 1
)

// MaxBundleBytes bounds a bundle file: a header, a certificate of the largest validator set,
// and a transaction of the largest size genesis allows, as JSON, with room to spare.
const MaxBundleBytes = 64 << 20

// Kind is what a bundle proves.
type Kind string

// Kinds of bundle.
const (
	KindTx      Kind = "tx"      // a transaction is in a certified block
	KindAccount Kind = "account" // an account's record (balances) after a certified block
)

// Bundle is a self-contained proof of one fact, checked offline with the genesis file alone
// (Check). It holds the header of a block, the certificate that commits to it, and the path
// from the fact to one of the header's roots. docs/proofs.md specifies the format.
type Bundle struct {
	Format      string       `json:"format"`  // Format
	Version     int          `json:"version"` // Version
	Kind        Kind         `json:"kind"`
	Genesis     chain.Hash   `json:"genesis_hash"` // the network's genesis, as the bundle names it
	ChainID     uint64       `json:"chain_id,string"`
	Header      chain.Header `json:"header"`
	Certificate chain.Commit `json:"certificate"`       // precommits for the header's hash
	Tx          *TxPath      `json:"tx,omitempty"`      // KindTx
	Account     *AccountPath `json:"account,omitempty"` // KindAccount
	// SetChanges lead from genesis's validators to those of the header's height (protocol
	// version 3): every change of the set in force up to it, oldest first. Empty when the set
	// never changed, and on earlier chains, whose set is genesis's for good.
	SetChanges []SetChange `json:"set_changes,omitempty"`
}

// SetChange is one change of the validator set, as chain.FollowSetChanges follows it.
type SetChange = chain.SetChange

// TxPath is a transaction and its Merkle path to the header's tx root (chain/merkle).
type TxPath struct {
	Tx    *chain.Tx    `json:"tx"` // the API's form; its "hash" must be its id
	Index uint64       `json:"index,string"`
	Total uint64       `json:"total,string"` // transactions in the block
	Path  []chain.Hash `json:"path"`         // siblings, bottom-up
}

// AccountPath is an account's state record, or its absence, and its path to the header's
// state root (chain/smt). The record holds the account's nonce and its balance in every
// program; Program names the one the bundle is about ("" for all of them).
type AccountPath struct {
	Address chain.Address  `json:"address"`
	Program string         `json:"program,omitempty"`
	Key     hexutil.Bytes  `json:"key"`   // chain.AccountKey(Address)
	Value   *hexutil.Bytes `json:"value"` // the record's encoding; null: no record
	Proof   smt.Proof      `json:"proof"`
}

// Encode writes the bundle as indented JSON, the form a bundle file holds.
func (b *Bundle) Encode() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(b); err != nil {
		return nil, fmt.Errorf("proof: encoding the bundle: %w", err)
	}
	return buf.Bytes(), nil
}

// Parse decodes a bundle strictly: unknown or repeated fields, fields in another case,
// integers in any but their one decimal form and trailing data are refused (ErrBadBundle),
// as are another format or version. What the bundle claims is Check's to judge.
func Parse(data []byte) (*Bundle, error) {
	if len(data) > MaxBundleBytes {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrBadBundle, len(data), MaxBundleBytes)
	}
	// The format and version first, so that a future version is named as such rather than
	// refused for a field this one does not know.
	var head struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadBundle, err)
	}
	if head.Format != Format {
		return nil, fmt.Errorf("%w: format %q, want %q", ErrBadBundle, head.Format, Format)
	}
	if head.Version != Version {
		return nil, fmt.Errorf("%w: version %d, this build reads version %d", ErrBadBundle, head.Version, Version)
	}
	var b Bundle
	if err := jsonstrict.Decode(data, &b); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadBundle, err)
	}
	return &b, nil
}

// Read reads and parses a bundle of at most MaxBundleBytes.
func Read(r io.Reader) (*Bundle, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBundleBytes+1))
	if err != nil {
		return nil, fmt.Errorf("proof: reading the bundle: %w", err)
	}
	return Parse(data)
}

package proof

import (
	"fmt"
	"strings"
	"time"

	"github.com/loyal-ledger/loyal/chain"
)

// Fact is what a bundle proves, once Check has verified it: every field is derived from the
// bundle's verified parts and the genesis, except those marked as stated.
type Fact struct {
	Kind      Kind       `json:"kind"`
	Statement string     `json:"statement"` // the fact in one sentence
	Genesis   chain.Hash `json:"genesis"`
	ChainID   uint64     `json:"chain_id,string"`
	Height    uint64     `json:"height,string"`
	BlockHash chain.Hash `json:"block_hash"`
	Time      uint64     `json:"time,string"` // the block's, Unix seconds
	Certified Certified  `json:"certified"`

	Tx      *TxFact      `json:"tx,omitempty"`
	Account *AccountFact `json:"account,omitempty"`
}

// Certified says who certified the block: which validators in force at its height signed
// its precommits, in which round, out of how many.
type Certified struct {
	Round      uint32   `json:"round"`
	Signers    []Signer `json:"signers"`
	Validators int      `json:"validators"`
}

// Signer is one validator whose precommit is in the certificate, named as genesis names it.
type Signer struct {
	Name    string        `json:"name"`
	Address chain.Address `json:"address"`
}

// TxFact is a transaction in the certified block. A certified block holds only transactions
// that applied, so the transaction took effect at that height.
type TxFact struct {
	Hash   chain.Hash    `json:"hash"`
	Kind   string        `json:"kind"`
	Sender chain.Address `json:"sender"` // recovered under this genesis's signing domain
	// Index and Total are the position the bundle states. The path proves that the
	// transaction is in the block; the header does not commit to the block's number of
	// transactions, and an RFC 6962 path fits more than one (index, total), so the position
	// is consistent with the path but not proven by it.
	Index uint64 `json:"index,string"`
	Total uint64 `json:"total,string"`
}

// AccountFact is an account's state after the certified block.
type AccountFact struct {
	Address  chain.Address `json:"address"`
	Program  string        `json:"program,omitempty"` // the program the bundle is about; "" for all
	Exists   bool          `json:"exists"`            // the state holds a record for the address
	Nonce    uint64        `json:"nonce,string"`
	Holdings []Holding     `json:"holdings"` // Program's alone (zero if none), or every program in the record
}

// Holding is a balance on the block's day: points spendable now and points still locked in
// their return window; expired points are not counted.
type Holding struct {
	Program   string `json:"program"`
	Available uint64 `json:"available,string"`
	Pending   uint64 `json:"pending,string"`
	Total     uint64 `json:"total,string"`
}

// String is the statement.
func (f *Fact) String() string { return f.Statement }

// state words the fact; Check calls it once every field is set.
func (f *Fact) state() {
	var b strings.Builder
	when := time.Unix(int64(f.Time), 0).UTC().Format(time.RFC3339)
	switch {
	case f.Tx != nil:
		fmt.Fprintf(&b, "transaction %s (%s, signed by %s) is in block %d (%s, %s)",
			f.Tx.Hash.Hex(), f.Tx.Kind, f.Tx.Sender.Hex(), f.Height, f.BlockHash.Hex(), when)
	case f.Account != nil:
		fmt.Fprintf(&b, "at height %d (block %s, %s), %s holds ", f.Height, f.BlockHash.Hex(), when, f.Account.Address.Hex())
		if len(f.Account.Holdings) == 0 {
			b.WriteString("no points")
		}
		for i, h := range f.Account.Holdings {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%d %s (available %d, pending %d)", h.Total, h.Program, h.Available, h.Pending)
		}
		if !f.Account.Exists {
			b.WriteString(" (the state holds no record for it)")
		}
	}
	fmt.Fprintf(&b, ", certified by %d of the %d validators of genesis %s (chain id %d) in round %d",
		len(f.Certified.Signers), f.Certified.Validators, f.Genesis.Hex(), f.ChainID, f.Certified.Round)
	if f.Tx != nil {
		fmt.Fprintf(&b, "; the bundle places it at index %d of %d", f.Tx.Index, f.Tx.Total)
	}
	f.Statement = b.String()
}

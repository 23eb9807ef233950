package verify

import "github.com/loyal-ledger/loyal/chain"

// Report is what Verify checked and found.
type Report struct {
	Genesis   chain.Hash      `json:"genesis"`
	Height    uint64          `json:"height,string"` // of the last block verified
	Blocks    uint64          `json:"blocks,string"`
	Txs       uint64          `json:"txs,string"`
	StateRoot chain.Hash      `json:"state_root"` // after the last block
	Programs  []ProgramReport `json:"programs"`
	Checks    []string        `json:"checks"`                 // what was checked, in words
	Failure   *Failure        `json:"failure,omitempty"`      // the first check that failed
	Since     uint64          `json:"since,string,omitempty"` // resumed from a checkpoint at this height

	// Certificate is the certificate of the last block verified, as Verify checked it: with
	// StopAt below the chain's end, the canonical one the next block carries; else the
	// source's final one. Nil until the verification passed. A proof of that block's header
	// is built on it (audit/proof); it is not part of the JSON verdict.
	Certificate *chain.Commit `json:"-"`

	checkpoint *Checkpoint
}

// Checkpoint is where a successful verification ended, to resume from (Options.Since);
// nil after a failure, and for a chain of no block.
func (r *Report) Checkpoint() *Checkpoint { return r.checkpoint }

// ProgramReport is one program's conservation at the last block: the points it ever minted
// and every way they left, tallied from the transactions' entries and the program's own
// record, against the sum of every holder's balance.
type ProgramReport struct {
	Symbol       string `json:"symbol"`
	Earned       uint64 `json:"earned,string"`
	Reversed     uint64 `json:"reversed,string"`
	Redeemed     uint64 `json:"redeemed,string"`
	Expired      uint64 `json:"expired,string"`
	ExchangedOut uint64 `json:"exchanged_out,string"`
	ExchangedIn  uint64 `json:"exchanged_in,string"`
	Outstanding  uint64 `json:"outstanding,string"` // earned − reversed − redeemed − expired − exchanged out + exchanged in
	Balances     uint64 `json:"balances,string"`    // Σ holders' balances, pending included
	Holders      uint64 `json:"holders,string"`
}

// Failure is the first check that failed: at which height (0: the genesis or the file
// itself), which check, and the error.
type Failure struct {
	Height uint64 `json:"height,string"`
	Check  string `json:"check"`
	Error  string `json:"error"`
}

// Check names, as Failure.Check reports them.
const (
	CheckRead         = "read"         // the source: format, truncation, decoding
	CheckGenesis      = "genesis"      // the genesis is valid and the one the auditor trusts
	CheckHeader       = "header"       // link to the parent, limits, structure (chain.CheckNext)
	CheckCertificate  = "certificate"  // a block's certificate, carried or final
	CheckSignature    = "signature"    // a transaction's signature
	CheckExecution    = "execution"    // a transaction fails when the block is executed again
	CheckStateRoot    = "state_root"   // the state after the block is not the one its header names
	CheckConservation = "conservation" // a program's points do not add up
	CheckFinal        = "final"        // the last block's certificate is missing or wrong
	CheckCheckpoint   = "checkpoint"   // a checkpoint resumed from is not what it claims
)

package chain

import (
	"fmt"

	"github.com/loyal-ledger/loyal/chain/smt"
)

// StateProof proves a state record (or its absence) against the state root of the header at
// Height. Like a TxProof it verifies with this package alone: the header is all it needs.
type StateProof struct {
	Height    uint64    `json:"height,string"`
	StateRoot Hash      `json:"state_root"`
	Key       []byte    `json:"key"`
	Value     []byte    `json:"value"` // nil when proving absence
	Proof     smt.Proof `json:"proof"`
}

// Verify checks the proof against a header's state root: the header is all it needs.
func (p *StateProof) Verify(h *Header) error {
	if h.StateRoot != p.StateRoot || h.Height != p.Height {
		return fmt.Errorf("%w: proof is for height %d root %s, header is %d root %s", smt.ErrInvalidProof, p.Height, p.StateRoot, h.Height, h.StateRoot)
	}
	k := smt.HashKey(p.Key)
	if p.Value == nil {
		return smt.VerifyExclusion(p.StateRoot, k, p.Proof)
	}
	return smt.VerifyInclusion(p.StateRoot, k, smt.HashValue(p.Value), p.Proof)
}

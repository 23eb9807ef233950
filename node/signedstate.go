package node

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"os"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/internal/fsutil"
	"github.com/loyal-ledger/loyal/node/consensus"
)

// signedStateFile is where a validator keeps what it last signed (consensus.SignedState),
// written durably before the message leaves the node: the double-sign protection.
type signedStateFile struct{ path string }

// load is the persisted state, or nil if there is none yet.
func (f *signedStateFile) load() (*consensus.SignedState, error) {
	raw, err := os.ReadFile(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	st, err := consensus.DecodeSignedState(raw)
	if err != nil {
		return nil, fmt.Errorf("node: %s: %w", f.path, err)
	}
	return st, nil
}

// save replaces the persisted state atomically and durably.
func (f *signedStateFile) save(st *consensus.SignedState) error {
	return fsutil.WriteFileAtomic(f.path, st.Encode(), 0o600)
}

// voteSigner signs the engine's votes and proposals with the consensus key.
type voteSigner struct {
	key  *ecdsa.PrivateKey
	addr chain.Address
}

func (s voteSigner) Address() chain.Address { return s.addr }

func (s voteSigner) SignVote(d chain.Hash) ([65]byte, error) { return chain.SignVote(s.key, d) }

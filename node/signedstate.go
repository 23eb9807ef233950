package node

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/internal/fsutil"
	"github.com/loyal-ledger/loyal/node/consensus"
)

// signedStateName is the file a validator keeps what it last signed in.
const signedStateName = "signed_state.bin"

// signedStatePath is where the validator keeps its double-sign protection file. It lives
// in the home directory, beside the consensus key it protects, not in the data directory: an
// operator who empties or replaces the data directory (to resync, or from a backup) must not
// take away the record of what the key last signed, or the validator could sign a second,
// conflicting vote for a height and round it already voted in.
func (n *Node) signedStatePath() string { return filepath.Join(n.home, signedStateName) }

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

// migrateSignedState moves a signed state left in the data directory by an older version to
// the home directory. It never leaves the validator without one: the new file is written and
// synced (file and directory) before the old one is removed, and a crash in between leaves
// both, which the next start resolves the same way. If both exist (a crash mid-move, or a
// downgrade that wrote the old place again), the later of the two — by height, then round —
// is kept: it is the one that knows what the key signed last.
func migrateSignedState(home, dataDir string) error {
	oldPath, newPath := filepath.Join(dataDir, signedStateName), filepath.Join(home, signedStateName)
	if filepath.Clean(oldPath) == filepath.Clean(newPath) {
		return nil // data_dir is the home itself
	}
	old, err := os.ReadFile(oldPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("node: migrate the signed state: %w", err)
	}
	cur, err := os.ReadFile(newPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		cur = nil
	case err != nil:
		return fmt.Errorf("node: migrate the signed state: %w", err)
	}
	if cur == nil || laterSignedState(old, cur) {
		if err := fsutil.WriteFileAtomic(newPath, old, 0o600); err != nil {
			return fmt.Errorf("node: migrate the signed state to %s: %w", newPath, err)
		}
	}
	// Not synced: if the removal is lost in a crash, the next start removes it again.
	if err := os.Remove(oldPath); err != nil {
		return fmt.Errorf("node: migrate the signed state: remove %s: %w", oldPath, err)
	}
	return nil
}

// laterSignedState reports whether encoded state a is from a later height, or the same height
// and a later round, than b. A state that does not decode is never the later one (the engine
// refuses it at start either way).
func laterSignedState(a, b []byte) bool {
	sa, err := consensus.DecodeSignedState(a)
	if err != nil {
		return false
	}
	sb, err := consensus.DecodeSignedState(b)
	if err != nil {
		return true
	}
	return sa.Height > sb.Height || (sa.Height == sb.Height && sa.Round > sb.Round)
}

// voteSigner signs the engine's votes and proposals with the consensus key.
type voteSigner struct {
	key  *ecdsa.PrivateKey
	addr chain.Address
}

func (s voteSigner) Address() chain.Address { return s.addr }

func (s voteSigner) SignVote(d chain.Hash) ([65]byte, error) { return chain.SignVote(s.key, d) }

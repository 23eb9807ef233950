package node

import (
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/internal/fsutil"
)

// A validator joins a running chain, or takes over another's place, by partner vote
// (docs/adr/0003-consensus.md): a partner proposes its entry with the proof that whoever
// proposes it holds the key. ValidatorEntry makes that pair on the node's host, where the
// consensus key lives; the partner then proposes it with `loyal governance propose-validator`.

// ValidatorEntryOptions describe the validator a home's key would be.
type ValidatorEntryOptions struct {
	Partner chain.Address // the partner that runs it; required
	Name    string        // default: the home's moniker
	Addrs   []string      // where other validators dial it (with or without /p2p/)
	// KeyFile is the key to propose, default the home's consensus.key. A rotation proposes
	// the key of the node that will take the place.
	KeyFile string
}

// ValidatorEntry signs the entry of the home's consensus key (or o.KeyFile's) for the home's
// chain: the proof names the chain id and genesis hash, so it proves nothing elsewhere.
func ValidatorEntry(home string, o ValidatorEntryOptions) (*api.ValidatorEntry, error) {
	g, err := loadHomeGenesis(home)
	if err != nil {
		return nil, err
	}
	if o.Partner == (chain.Address{}) {
		return nil, fmt.Errorf("%w: a validator entry needs its partner", ErrBadConfig)
	}
	path := o.KeyFile
	if path == "" {
		path = filepath.Join(home, ConsensusKeyFile)
	}
	key, err := LoadKey(path)
	if err != nil {
		return nil, err
	}
	if o.Name == "" {
		cfg, err := LoadConfig(home)
		if err != nil {
			return nil, err
		}
		o.Name = cfg.Moniker
	}
	return signEntry(g, key, o)
}

func signEntry(g *chain.Genesis, key *ecdsa.PrivateKey, o ValidatorEntryOptions) (*api.ValidatorEntry, error) {
	e := chain.ValidatorKey{Name: o.Name, Partner: o.Partner, PubKey: crypto.CompressPubkey(&key.PublicKey), Multiaddrs: slices.Clone(o.Addrs)}
	if e.Multiaddrs == nil {
		e.Multiaddrs = []string{}
	}
	// The chain's own checks, so a mistake shows here rather than as a refused proposal.
	if err := e.Check(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadConfig, err)
	}
	v, err := e.Validator()
	if err != nil {
		return nil, err
	}
	proof, err := chain.SignPossession(chain.Domain{ChainID: g.ChainID, Salt: g.Hash()}, &e, key)
	if err != nil {
		return nil, err
	}
	return &api.ValidatorEntry{Entry: e, Proof: proof[:], Address: v.Address, ChainID: g.ChainID, Genesis: g.Hash()}, nil
}

// WriteValidatorEntry writes e to path as indented JSON, atomically.
func WriteValidatorEntry(path string, e *api.ValidatorEntry) error {
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(path, append(b, '\n'), 0o644)
}

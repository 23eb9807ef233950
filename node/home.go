package node

import (
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/internal/fsutil"
)

// The files of a node's home directory.
const (
	ConfigFile       = "config.toml"
	GenesisFile      = "genesis.json"
	ConsensusKeyFile = "consensus.key" // the validator key: signs votes, names the libp2p peer
	OperatorKeyFile  = "operator.key"  // the hot key the merchant endpoints sign earns with
	TokenFile        = "api.token"     // the bearer token of the merchant endpoints
	// During a rotation (rotation.go) the new operator key and the new token wait beside
	// the current ones; the running node holds both of each until the rotation is retired.
	OperatorNextKeyFile = "operator.next.key"
	TokenNextFile       = "api.next.token"
)

// ErrBadKey marks a key or token file that is missing, unreadable, malformed or exposed.
var ErrBadKey = errors.New("node: bad key file")

// InitOptions say what `loyald init` writes.
type InitOptions struct {
	Owner       chain.Address // the merchant's owner (partner) address; required
	PartnerName string        // default "merchant"
	// OtherPartners are further merchants of the coalition (they register their own
	// programs with their own keys; this node validates for all of them).
	OtherPartners []chain.Partner
	ChainID       uint64 // default 1337
	Network       string // default "loyal-dev"
	GenesisTime   uint64 // Unix seconds; required
	Moniker       string
	Backend       string // default pebble
	Listen        string // API host:port, default DefaultAPIListen
}

// InitResult is what Init created.
type InitResult struct {
	Home        string
	Validator   chain.Address
	Operator    chain.Address
	GenesisHash chain.Hash
}

// Init creates a node's home: config, consensus and operator keys, API token and a
// one-validator genesis whose only partner is the owner. It refuses to overwrite any existing
// file, and on error removes only what it created.
func Init(home string, o InitOptions) (*InitResult, error) {
	if o.Owner == (chain.Address{}) {
		return nil, errors.New("node: init: an owner address is required")
	}
	if o.GenesisTime == 0 {
		return nil, errors.New("node: init: genesis time is required")
	}
	cfg := DefaultConfig()
	if o.Moniker != "" {
		cfg.Moniker = o.Moniker
	}
	if o.Backend != "" {
		cfg.Backend = o.Backend
	}
	if o.Listen != "" {
		cfg.API.Listen = o.Listen
	}
	consensus, err := crypto.GenerateKey()
	if err != nil {
		return nil, err
	}
	return WriteHome(home, cfg, DevGenesis(o, consensus), consensus)
}

// WriteHome creates a node's home from a config, a genesis and the node's consensus key,
// generating its operator key and API token. It refuses to overwrite any existing file, and
// on error removes only what it created. (Init uses it for a one-validator network; a
// multi-validator testnet writes one home per validator with the same genesis; a host joining
// a coalition passes a nil genesis, installed later by InstallGenesis.)
func WriteHome(home string, cfg Config, g *chain.Genesis, consensus *ecdsa.PrivateKey) (res *InitResult, err error) {
	for _, f := range []string{ConfigFile, GenesisFile, ConsensusKeyFile, OperatorKeyFile, TokenFile, OperatorNextKeyFile, TokenNextFile} {
		if _, err := os.Lstat(filepath.Join(home, f)); err == nil {
			return nil, fmt.Errorf("node: init: %s already exists; refusing to overwrite it", filepath.Join(home, f))
		}
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("node: init: %w", err)
	}
	if g != nil {
		if err := g.Validate(); err != nil {
			return nil, fmt.Errorf("node: init: %w", err)
		}
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("node: init: %w", err)
	}
	var created []string
	defer func() {
		if err != nil {
			for _, f := range created {
				os.Remove(f)
			}
		}
	}()
	write := func(name string, data []byte, mode fs.FileMode) error {
		path := filepath.Join(home, name)
		if err := fsutil.WriteFileExclusive(path, data, mode); err != nil {
			return fmt.Errorf("node: init: %w", err)
		}
		created = append(created, path)
		return nil
	}
	operator, err := crypto.GenerateKey()
	if err != nil {
		return nil, err
	}
	token := make([]byte, 32)
	if _, err := rand.Read(token); err != nil {
		return nil, err
	}
	cj, err := cfg.Encode()
	if err != nil {
		return nil, err
	}
	if err := write(ConsensusKeyFile, encodeKey(consensus), 0o600); err != nil {
		return nil, err
	}
	if err := write(OperatorKeyFile, encodeKey(operator), 0o600); err != nil {
		return nil, err
	}
	if err := write(TokenFile, []byte(hex.EncodeToString(token)+"\n"), 0o600); err != nil {
		return nil, err
	}
	if g != nil {
		gj, err := json.MarshalIndent(g, "", "  ")
		if err != nil {
			return nil, err
		}
		if err := write(GenesisFile, gj, 0o644); err != nil {
			return nil, err
		}
	}
	if err := write(ConfigFile, cj, 0o644); err != nil {
		return nil, err
	}
	res = &InitResult{
		Home: home, Validator: crypto.PubkeyToAddress(consensus.PublicKey),
		Operator: crypto.PubkeyToAddress(operator.PublicKey),
	}
	if g != nil {
		res.GenesisHash = g.Hash()
	}
	return res, nil
}

// DevGenesis is a one-validator genesis: the owner is the only partner and runs the node whose
// consensus key is given.
func DevGenesis(o InitOptions, consensus *ecdsa.PrivateKey) *chain.Genesis {
	name := o.PartnerName
	if name == "" {
		name = "merchant"
	}
	chainID := o.ChainID
	if chainID == 0 {
		chainID = 1337
	}
	network := o.Network
	if network == "" {
		network = "loyal-dev"
	}
	return &chain.Genesis{
		ChainID: chainID, Network: network, GenesisTime: o.GenesisTime,
		Partners: append([]chain.Partner{{Name: name, Address: o.Owner}}, o.OtherPartners...),
		Validators: []chain.Validator{{
			Name: name + "-node", Partner: o.Owner,
			PubKey:  crypto.CompressPubkey(&consensus.PublicKey),
			Address: crypto.PubkeyToAddress(consensus.PublicKey),
		}},
		Params:          chain.DefaultParams(),
		ProtocolVersion: chain.LatestVersion, Governance: chain.DefaultGovernance(),
	}
}

func encodeKey(k *ecdsa.PrivateKey) []byte {
	return []byte(hex.EncodeToString(crypto.FromECDSA(k)) + "\n")
}

// LoadKey reads a hex secp256k1 private key file, refusing one that others may read.
func LoadKey(path string) (*ecdsa.PrivateKey, error) {
	raw, err := readSecret(path)
	if err != nil {
		return nil, err
	}
	k, err := crypto.HexToECDSA(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: not a hex secp256k1 private key: %v", ErrBadKey, path, err)
	}
	return k, nil
}

// LoadToken reads the API bearer token.
func LoadToken(path string) (string, error) {
	tok, err := readSecret(path)
	if err != nil {
		return "", err
	}
	if len(tok) < 32 {
		return "", fmt.Errorf("%w: %s: token shorter than 32 characters", ErrBadKey, path)
	}
	return tok, nil
}

// readSecret reads a secret file, refusing one that others may read. A missing file is an
// ErrBadKey that also matches fs.ErrNotExist.
func readSecret(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%w: %s is readable by others (mode %04o); run chmod 600 %s", ErrBadKey, path, st.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	return strings.TrimSpace(string(b)), nil
}

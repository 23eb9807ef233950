package node

import (
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/internal/fsutil"
	"github.com/loyal-ledger/loyal/internal/jsonstrict"
	"github.com/loyal-ledger/loyal/p2p"
)

// A coalition's genesis ceremony, on separate hosts (README: "Launching a coalition on four
// hosts"):
//
//  1. each partner's host makes its home without a genesis and publishes an Entry, the
//     partner and the validator its node runs (InitCoalition);
//  2. a coordinator writes a draft genesis (WriteDraft) and adds the entries (AddEntries);
//  3. every partner checks the genesis and compares its hash with the others' (CheckGenesis),
//     installs it (InstallGenesis) and starts.
//
// Nothing secret leaves a host: an entry holds public keys and addresses only. The decisions
// are in docs/adr/0010-genesis-ceremony.md.

// EntryFile is the entry InitCoalition writes in the home, public (0644).
const EntryFile = "entry.json"

// EntryVersion is the version of the entry format this code writes and reads.
const EntryVersion = 1

// Errors of the ceremony. Callers test them with errors.Is.
var (
	// ErrBadEntry marks an entry that cannot be read or is not one a genesis could list.
	ErrBadEntry = errors.New("node: bad genesis entry")
	// ErrDuplicateEntry marks an entry that clashes with what the genesis already lists: its
	// validator key or name, its owner under another name, or its name under another owner.
	ErrDuplicateEntry = errors.New("node: entry clashes with the genesis")
	// ErrNoGenesis marks a home that has no genesis installed yet.
	ErrNoGenesis = errors.New("node: no genesis installed")
	// ErrOtherGenesis marks a home that has another genesis installed than the one offered.
	ErrOtherGenesis = errors.New("node: another genesis is installed")
	// ErrNotValidator marks a genesis that does not list the home's consensus key.
	ErrNotValidator = errors.New("node: this node is not a validator of the genesis")
)

// Entry is what a partner's host publishes to join a coalition: the partner (its name and
// owner address, the cold key that registers its programs and votes on proposals) and the
// validator its node runs (consensus public key and address, the multiaddrs the other
// validators dial), exactly as the genesis lists them.
type Entry struct {
	Version   int             `json:"version"` // EntryVersion
	Partner   chain.Partner   `json:"partner"`
	Validator chain.Validator `json:"validator"`
}

// Check checks that a genesis could list the entry: its version, the partner's name and
// address, the validator's key, address and name, that the validator is the partner's, and
// that its multiaddrs can be dialed (p2p.CheckValidatorAddrs).
func (e *Entry) Check() error {
	switch {
	case e.Version != EntryVersion:
		return fmt.Errorf("%w: version %d, want %d", ErrBadEntry, e.Version, EntryVersion)
	case e.Partner.Address == (chain.Address{}):
		return fmt.Errorf("%w: the partner's owner address is zero", ErrBadEntry)
	case e.Validator.Partner != e.Partner.Address:
		return fmt.Errorf("%w: validator %q is partner %s's, not the entry's partner %s", ErrBadEntry, e.Validator.Name, e.Validator.Partner, e.Partner.Address)
	case e.Validator.Name == "":
		return fmt.Errorf("%w: the validator has no name", ErrBadEntry)
	case e.Validator.Address == e.Partner.Address:
		return fmt.Errorf("%w: the owner address is the node's consensus key: a partner's key and its node's key must differ", ErrBadEntry)
	}
	// The one-partner genesis of the entry holds it to every rule a genesis's partners and
	// validators are held to.
	g := &chain.Genesis{
		ChainID: 1, Network: "entry", Params: chain.DefaultParams(),
		ProtocolVersion: chain.LatestVersion, Governance: chain.DefaultGovernance(),
		Partners: []chain.Partner{e.Partner}, Validators: []chain.Validator{e.Validator},
	}
	if err := g.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrBadEntry, err)
	}
	if err := p2p.CheckValidatorAddrs(e.Validator); err != nil {
		return fmt.Errorf("%w: %w", ErrBadEntry, err)
	}
	return nil
}

// ParseEntry decodes an entry strictly (unknown, repeated or miscased keys are errors) and
// checks it.
func ParseEntry(b []byte) (*Entry, error) {
	var e Entry
	if err := jsonstrict.Decode(b, &e); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadEntry, err)
	}
	if err := e.Check(); err != nil {
		return nil, err
	}
	return &e, nil
}

// LoadEntry reads and checks an entry file; its errors name the file.
func LoadEntry(path string) (*Entry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadEntry, err)
	}
	e, err := ParseEntry(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return e, nil
}

// CoalitionOptions say what InitCoalition writes.
type CoalitionOptions struct {
	Owner       chain.Address // the partner's owner address; required
	PartnerName string        // required
	// ValidatorName names the node in the genesis and in its logs; default PartnerName-node.
	ValidatorName string
	Backend       string // default pebble
	APIListen     string // API host:port, default DefaultAPIListen
	// P2PListen are the multiaddrs libp2p listens on; default DefaultConfig's.
	P2PListen []string
	// P2PExternal are the multiaddrs other hosts reach this one at, as the entry publishes
	// them; default P2PListen, which then must not be an unspecified address (0.0.0.0).
	P2PExternal []string
}

// CoalitionHome is what InitCoalition created.
type CoalitionHome struct {
	InitResult // GenesisHash is zero: the genesis comes later
	Entry      *Entry
	EntryPath  string
}

// InitCoalition creates the home of a node joining a coalition: config (with its p2p listen
// addresses), consensus and operator keys, API token, and its public entry (EntryFile) for
// the coalition's coordinator, but no genesis: InstallGenesis puts the coalition's there. It
// refuses to overwrite any existing file, and on error removes only what it created.
func InitCoalition(home string, o CoalitionOptions) (*CoalitionHome, error) {
	if o.Owner == (chain.Address{}) {
		return nil, errors.New("node: init: an owner address is required")
	}
	if o.PartnerName == "" {
		return nil, errors.New("node: init: a partner name is required")
	}
	cfg := DefaultConfig()
	if o.ValidatorName == "" {
		o.ValidatorName = o.PartnerName + "-node"
	}
	cfg.Moniker = o.ValidatorName
	if o.Backend != "" {
		cfg.Backend = o.Backend
	}
	if o.APIListen != "" {
		cfg.API.Listen = o.APIListen
	}
	if len(o.P2PListen) > 0 {
		cfg.P2P.Listen = o.P2PListen
	}
	if err := p2p.CheckListenAddrs(cfg.P2P.Listen); err != nil {
		return nil, fmt.Errorf("node: init: %w", err)
	}
	external := o.P2PExternal
	if len(external) == 0 {
		external = cfg.P2P.Listen
	}
	consensus, err := crypto.GenerateKey()
	if err != nil {
		return nil, err
	}
	e := newEntry(o.PartnerName, o.Owner, o.ValidatorName, consensus, external)
	if err := e.Check(); err != nil {
		if len(o.P2PExternal) == 0 && errors.Is(err, p2p.ErrBadAddr) {
			return nil, fmt.Errorf("node: init: %w: %s is where this host listens, not where other hosts reach it: give that address as well (loyald init --p2p-external)",
				ErrBadEntry, strings.Join(cfg.P2P.Listen, " "))
		}
		return nil, fmt.Errorf("node: init: %w", err)
	}
	ej, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return nil, err
	}
	entryPath := filepath.Join(home, EntryFile)
	if _, err := os.Lstat(entryPath); err == nil {
		return nil, fmt.Errorf("node: init: %s already exists; refusing to overwrite it", entryPath)
	}
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, fmt.Errorf("node: init: %w", err)
	}
	if err := fsutil.WriteFileExclusive(entryPath, append(ej, '\n'), 0o644); err != nil {
		return nil, fmt.Errorf("node: init: %w", err)
	}
	res, err := WriteHome(home, cfg, nil, consensus)
	if err != nil {
		os.Remove(entryPath)
		return nil, err
	}
	return &CoalitionHome{InitResult: *res, Entry: e, EntryPath: entryPath}, nil
}

func newEntry(partner string, owner chain.Address, validator string, consensus *ecdsa.PrivateKey, addrs []string) *Entry {
	return &Entry{
		Version: EntryVersion,
		Partner: chain.Partner{Name: partner, Address: owner},
		Validator: chain.Validator{
			Name: validator, Partner: owner,
			PubKey:  crypto.CompressPubkey(&consensus.PublicKey),
			Address: crypto.PubkeyToAddress(consensus.PublicKey),
			Addrs:   slices.Clone(addrs),
		},
	}
}

// DraftOptions say what a coalition's draft genesis fixes before any partner is in it.
type DraftOptions struct {
	ChainID     uint64 // required
	Network     string // required
	GenesisTime uint64 // Unix seconds; required
	// ProposalSeconds is how long a governance proposal stays open; 0 means
	// chain.DefaultGovernance's week.
	ProposalSeconds uint64
}

// NewDraft is a coalition's draft genesis: the latest protocol version with its governance
// section and the default limits, listing no partners and validators yet.
func NewDraft(o DraftOptions) (*chain.Genesis, error) {
	gov := chain.DefaultGovernance()
	if o.ProposalSeconds != 0 {
		gov.ProposalSeconds = o.ProposalSeconds
	}
	if o.GenesisTime == 0 {
		return nil, fmt.Errorf("%w: genesis_time is required", chain.ErrBadGenesis)
	}
	g := &chain.Genesis{
		ChainID: o.ChainID, Network: o.Network, GenesisTime: o.GenesisTime,
		Partners: []chain.Partner{}, Validators: []chain.Validator{}, Params: chain.DefaultParams(),
		ProtocolVersion: chain.LatestVersion, Governance: gov,
	}
	if err := g.ValidateDraft(); err != nil {
		return nil, err
	}
	return g, nil
}

// WriteDraft writes NewDraft's genesis to path, which must not exist.
func WriteDraft(path string, o DraftOptions) (*chain.Genesis, error) {
	g, err := NewDraft(o)
	if err != nil {
		return nil, err
	}
	b, err := encodeGenesis(g)
	if err != nil {
		return nil, err
	}
	if err := fsutil.WriteFileAtomicExclusive(path, b, 0o644); err != nil {
		return nil, fmt.Errorf("node: genesis: %w", err)
	}
	return g, nil
}

// Added is one entry AddEntries put in the genesis.
type Added struct {
	File       string          `json:"file"`
	Partner    chain.Partner   `json:"partner"`
	NewPartner bool            `json:"new_partner"` // false: a further validator of a listed partner
	Validator  chain.Validator `json:"validator"`
}

// AddEntries adds the entries in entryPaths to the draft or genesis at path: each entry's
// partner once per owner address (a partner may run several validators, one entry each, under
// the same name) and its validator. An entry that is malformed (ErrBadEntry) or clashes with
// what the genesis lists (ErrDuplicateEntry: the same validator key or name, an owner under
// another name, a name under another owner, an owner that is a node's key) is refused, and
// then nothing is written: the file is replaced, atomically, only when every entry is in.
func AddEntries(path string, entryPaths []string) ([]Added, *chain.Genesis, error) {
	if len(entryPaths) == 0 {
		return nil, nil, fmt.Errorf("%w: no entry files given", ErrBadEntry)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("node: genesis: %w", err)
	}
	g, err := chain.ParseGenesisDraft(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	var added []Added
	for _, ep := range entryPaths {
		e, err := LoadEntry(ep)
		if err != nil {
			return nil, nil, err
		}
		isNew, err := addEntry(g, e)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", ep, err)
		}
		added = append(added, Added{File: ep, Partner: e.Partner, NewPartner: isNew, Validator: e.Validator})
	}
	out, err := encodeGenesis(g)
	if err != nil {
		return nil, nil, err
	}
	if err := fsutil.WriteFileAtomic(path, out, 0o644); err != nil {
		return nil, nil, fmt.Errorf("node: genesis: %w", err)
	}
	return added, g, nil
}

// addEntry adds e to g, or leaves g as it was and says why not. It reports whether the
// partner is new to g.
func addEntry(g *chain.Genesis, e *Entry) (bool, error) {
	isNew := true
	for _, p := range g.Partners {
		switch {
		case p.Address == e.Partner.Address && p.Name != e.Partner.Name:
			return false, fmt.Errorf("%w: owner %s is partner %q already, not %q", ErrDuplicateEntry, p.Address, p.Name, e.Partner.Name)
		case p.Address == e.Partner.Address:
			isNew = false // a further validator of this partner
		case p.Name == e.Partner.Name:
			return false, fmt.Errorf("%w: partner name %q is owner %s's already, not %s's", ErrDuplicateEntry, p.Name, p.Address, e.Partner.Address)
		case p.Address == e.Validator.Address:
			return false, fmt.Errorf("%w: validator %q's key is partner %q's owner address", ErrDuplicateEntry, e.Validator.Name, p.Name)
		}
	}
	for _, v := range g.Validators {
		switch {
		case v.Address == e.Validator.Address:
			return false, fmt.Errorf("%w: validator key %s is validator %q's already", ErrDuplicateEntry, v.Address, v.Name)
		case v.Name == e.Validator.Name:
			return false, fmt.Errorf("%w: validator name %q is taken (by %s)", ErrDuplicateEntry, v.Name, v.Address)
		case v.Address == e.Partner.Address:
			return false, fmt.Errorf("%w: owner %s is validator %q's consensus key", ErrDuplicateEntry, e.Partner.Address, v.Name)
		}
	}
	next := *g
	if isNew {
		next.Partners = append(slices.Clip(g.Partners), e.Partner)
	}
	next.Validators = append(slices.Clip(g.Validators), e.Validator)
	if err := next.Validate(); err != nil {
		return false, fmt.Errorf("%w: %v", ErrBadEntry, err)
	}
	*g = next
	return isNew, nil
}

// GenesisSummary is what `loyald genesis check` shows of a genesis, for every partner to
// compare before installing it: above all its hash, which commits to every field.
type GenesisSummary struct {
	Hash            chain.Hash        `json:"hash"`
	ChainID         uint64            `json:"chain_id"`
	Network         string            `json:"network"`
	GenesisTime     uint64            `json:"genesis_time"`
	ProtocolVersion chain.Version     `json:"protocol_version"`
	ProposalSeconds uint64            `json:"proposal_seconds"` // 0 before Version2
	Partners        []chain.Partner   `json:"partners"`
	Validators      []chain.Validator `json:"validators"`
	Programs        []string          `json:"programs"` // symbols
}

// Summarize is g's summary.
func Summarize(g *chain.Genesis) GenesisSummary {
	s := GenesisSummary{
		Hash: g.Hash(), ChainID: g.ChainID, Network: g.Network, GenesisTime: g.GenesisTime,
		ProtocolVersion: g.Version(), Partners: g.Partners, Validators: g.Validators, Programs: []string{},
	}
	if g.Governance != nil {
		s.ProposalSeconds = g.Governance.ProposalSeconds
	}
	for _, p := range g.Programs {
		s.Programs = append(s.Programs, p.Symbol)
	}
	return s
}

// CheckGenesis decodes and validates a genesis fully (chain.ParseGenesis), and checks that
// every validator's multiaddrs can be dialed, as its nodes will.
func CheckGenesis(b []byte) (*chain.Genesis, error) {
	g, err := chain.ParseGenesis(b)
	if err != nil {
		return nil, err
	}
	for _, v := range g.Validators {
		if err := p2p.CheckValidatorAddrs(v); err != nil {
			return nil, fmt.Errorf("%w: %v", chain.ErrBadGenesis, err)
		}
	}
	return g, nil
}

// CheckGenesisFile is CheckGenesis of a file; its errors name the file.
func CheckGenesisFile(path string) (*chain.Genesis, error) {
	_, g, err := readGenesisFile(path)
	return g, err
}

// readGenesisFile reads and checks a genesis file, returning its bytes too.
func readGenesisFile(path string) ([]byte, *chain.Genesis, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("node: genesis: %w", err)
	}
	g, err := CheckGenesis(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, g, nil
}

// InstallOptions say what InstallGenesis accepts.
type InstallOptions struct {
	// Observer installs a genesis that does not list the home's consensus key: the node then
	// follows the chain without voting, if the validators admit its peer id (p2p.observers).
	Observer bool
}

// Installed is what InstallGenesis did.
type Installed struct {
	Home string     `json:"home"`
	Hash chain.Hash `json:"hash"`
	// AlreadyInstalled: the home had this genesis already, and nothing was written.
	AlreadyInstalled bool `json:"already_installed"`
	// Validator is the genesis's entry of the home's consensus key; nil for an observer.
	Validator *chain.Validator `json:"validator"`
	// Node is the home's consensus address, and PeerID its libp2p peer id, which validators
	// list in p2p.observers to admit an observer.
	Node   chain.Address `json:"node"`
	PeerID string        `json:"peer_id"`
}

// InstallGenesis checks the genesis at path (CheckGenesisFile), checks that it lists the
// home's consensus key as a validator (else ErrNotValidator, unless o.Observer), and writes
// it, byte for byte, as the home's genesis, atomically. A home that has this genesis already
// is left as it is (Installed.AlreadyInstalled); one that has another is refused
// (ErrOtherGenesis) and left as it is.
func InstallGenesis(home, path string, o InstallOptions) (*Installed, error) {
	b, g, err := readGenesisFile(path)
	if err != nil {
		return nil, err
	}
	if _, err := LoadConfig(home); err != nil {
		return nil, err
	}
	key, err := LoadKey(filepath.Join(home, ConsensusKeyFile))
	if err != nil {
		return nil, err
	}
	id, err := p2p.PeerIDOf(crypto.CompressPubkey(&key.PublicKey))
	if err != nil {
		return nil, err
	}
	res := &Installed{Home: home, Hash: g.Hash(), Node: crypto.PubkeyToAddress(key.PublicKey), PeerID: id.String()}
	for i, v := range g.Validators {
		if v.Address == res.Node {
			res.Validator = &g.Validators[i]
		}
	}
	if res.Validator == nil && !o.Observer {
		return nil, fmt.Errorf("%w: its %d validators do not include this node's consensus key %s; to follow the chain without voting, install it as an observer, and have the validators admit peer %s (p2p.observers)",
			ErrNotValidator, len(g.Validators), res.Node, res.PeerID)
	}
	dst := filepath.Join(home, GenesisFile)
	switch err := fsutil.WriteFileAtomicExclusive(dst, b, 0o644); {
	case err == nil:
		return res, nil
	case !errors.Is(err, fs.ErrExist):
		return nil, fmt.Errorf("node: genesis: %w", err)
	}
	old, err := chain.LoadGenesis(dst)
	if err != nil {
		return nil, fmt.Errorf("%w: %s cannot be read (%v); refusing to replace it", ErrOtherGenesis, dst, err)
	}
	if h := old.Hash(); h != res.Hash {
		return nil, fmt.Errorf("%w: %s has genesis %s, not %s; refusing to replace it", ErrOtherGenesis, dst, h, res.Hash)
	}
	res.AlreadyInstalled = true
	return res, nil
}

// loadHomeGenesis loads home's genesis, saying how to install one if there is none.
func loadHomeGenesis(home string) (*chain.Genesis, error) {
	path := filepath.Join(home, GenesisFile)
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s: get the coalition's genesis file, compare its hash with every partner (loyald genesis check FILE), then run loyald genesis install --home %s FILE",
			ErrNoGenesis, home, home)
	}
	g, err := chain.LoadGenesis(path)
	if err != nil {
		return nil, fmt.Errorf("node: %s: %w", path, err)
	}
	return g, nil
}

// encodeGenesis is a genesis file's content: indented JSON and a final newline.
func encodeGenesis(g *chain.Genesis) ([]byte, error) {
	b, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

package chain

import (
	"fmt"
	"os"
	"sort"

	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/crypto"
)

// Params are the consensus-critical limits fixed by genesis. Every node enforces the same.
type Params struct {
	MaxBlockTxs       int `json:"max_block_txs"`
	MaxBlockBytes     int `json:"max_block_bytes"`
	MaxTxBytes        int `json:"max_tx_bytes"`
	MaxRefLen         int `json:"max_ref_len"`  // order and reward refs
	MaxMemoLen        int `json:"max_memo_len"` // transfer memos and program names
	MaxCreditsPerEarn int `json:"max_credits_per_earn"`
	MaxLots           int `json:"max_lots"` // per account and program
}

// DefaultParams are the limits a new network starts with.
func DefaultParams() Params {
	return Params{
		MaxBlockTxs:       10_000,
		MaxBlockBytes:     4 << 20,
		MaxTxBytes:        1 << 20,
		MaxRefLen:         128,
		MaxMemoLen:        256,
		MaxCreditsPerEarn: 5_000,
		MaxLots:           64,
	}
}

func (p Params) check() error {
	switch {
	case p.MaxBlockTxs < 1 || p.MaxBlockTxs > 1_000_000:
		return fmt.Errorf("%w: max_block_txs %d out of [1, 1000000]", ErrBadGenesis, p.MaxBlockTxs)
	case p.MaxBlockBytes < 64<<10 || p.MaxBlockBytes > MaxBlockBytes:
		return fmt.Errorf("%w: max_block_bytes %d out of [%d, %d]", ErrBadGenesis, p.MaxBlockBytes, 64<<10, MaxBlockBytes)
	case p.MaxTxBytes < 256 || p.MaxTxBytes > MaxTxBytes || p.MaxTxBytes > p.MaxBlockBytes:
		return fmt.Errorf("%w: max_tx_bytes %d out of [256, min(%d, max_block_bytes)]", ErrBadGenesis, p.MaxTxBytes, MaxTxBytes)
	case p.MaxRefLen < 1 || p.MaxRefLen > maxDecodeString:
		return fmt.Errorf("%w: max_ref_len %d out of [1, %d]", ErrBadGenesis, p.MaxRefLen, maxDecodeString)
	case p.MaxMemoLen < 0 || p.MaxMemoLen > maxDecodeString:
		return fmt.Errorf("%w: max_memo_len %d out of [0, %d]", ErrBadGenesis, p.MaxMemoLen, maxDecodeString)
	case p.MaxCreditsPerEarn < 1 || p.MaxCreditsPerEarn > maxDecodeCredits:
		return fmt.Errorf("%w: max_credits_per_earn %d out of [1, %d]", ErrBadGenesis, p.MaxCreditsPerEarn, maxDecodeCredits)
	case p.MaxLots < 2 || p.MaxLots > 4096:
		return fmt.Errorf("%w: max_lots %d out of [2, 4096]", ErrBadGenesis, p.MaxLots)
	}
	return nil
}

// Partner is a merchant of the coalition.
type Partner struct {
	Name    string  `json:"name"`
	Address Address `json:"address"`
}

// Validator is a partner's node with its consensus key. The key is also the node's libp2p
// identity, so a peer id proves which validator speaks.
type Validator struct {
	Name    string        `json:"name"`
	Partner Address       `json:"partner"`    // the partner running it
	PubKey  hexutil.Bytes `json:"pub_key"`    // 33-byte compressed secp256k1 key
	Address Address       `json:"address"`    // derived from PubKey; checked
	Addrs   []string      `json:"multiaddrs"` // where to reach it (optional)
}

// GenesisProgram is a program that exists from the first block.
type GenesisProgram struct {
	Symbol    string    `json:"symbol"`
	Name      string    `json:"name"`
	Owner     Address   `json:"owner"`
	Operators []Address `json:"operators"`
	Policy    Policy    `json:"policy"`
}

// Genesis is the chain's first state and rules. Its hash names the chain: it salts every
// signature (EIP-712 domain) and every node refuses a data dir of another genesis.
type Genesis struct {
	ChainID     uint64           `json:"chain_id"`
	Network     string           `json:"network"`
	GenesisTime uint64           `json:"genesis_time"`
	Partners    []Partner        `json:"partners"`
	Validators  []Validator      `json:"validators"`
	Params      Params           `json:"limits"`
	Programs    []GenesisProgram `json:"programs,omitempty"`

	// ProtocolVersion is the version genesis puts in force. Absent (0) is Version1, the
	// protocol as launched, so a genesis written before versions existed keeps its hash.
	// Version2 and later need Governance.
	ProtocolVersion Version `json:"protocol_version,omitempty"`
	// Governance are the rules partners govern the coalition by (Version2 on).
	Governance *GovernanceParams `json:"governance,omitempty"`
}

// GovernanceParams are genesis's rules for partner governance (ADR 0009).
type GovernanceParams struct {
	// ProposalSeconds is how long a proposal stays open: approvals in a block whose time is
	// later than the proposal's block time plus this are refused as proposal_expired.
	ProposalSeconds uint64 `json:"proposal_seconds"`
}

// DefaultGovernance is the governance a new coalition starts with: a week to approve.
func DefaultGovernance() *GovernanceParams {
	return &GovernanceParams{ProposalSeconds: 7 * 86_400}
}

// MaxProposalSeconds bounds a proposal's lifetime (ten years).
const MaxProposalSeconds = 10 * 365 * 86_400

// MaxPartners bounds the partners of a coalition governed under Version2: each approval
// counts the approvers against the partner set, so the set must stay small enough for that.
const MaxPartners = 256

// Version is the protocol version genesis puts in force.
func (g *Genesis) Version() Version {
	if g.ProtocolVersion == 0 {
		return Version1
	}
	return g.ProtocolVersion
}

// LoadGenesis reads and validates a genesis file.
func LoadGenesis(path string) (*Genesis, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("chain: read genesis: %w", err)
	}
	return ParseGenesis(b)
}

// ParseGenesis decodes and validates genesis JSON. Unknown fields are errors: a typo in a
// consensus-critical limit must not silently become a default.
func ParseGenesis(b []byte) (*Genesis, error) {
	var g Genesis
	if err := strictJSON(b, &g); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadGenesis, err)
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return &g, nil
}

// ParseGenesisDraft decodes a genesis being assembled by a coalition's coordinator (`loyald
// genesis new`, then `add`), as strictly as ParseGenesis, and validates it as far as a draft
// can be: see ValidateDraft.
func ParseGenesisDraft(b []byte) (*Genesis, error) {
	var g Genesis
	if err := strictJSON(b, &g); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadGenesis, err)
	}
	if err := g.ValidateDraft(); err != nil {
		return nil, err
	}
	return &g, nil
}

// ValidateDraft checks a genesis being assembled. A draft that lists no partners, validators
// or programs yet has its rules checked (chain id, network, time, limits, protocol version,
// governance); one that lists any is checked as a genesis, by Validate, since whatever it
// lists must already fit together.
func (g *Genesis) ValidateDraft() error {
	if len(g.Partners) == 0 && len(g.Validators) == 0 && len(g.Programs) == 0 {
		return g.checkRules()
	}
	return g.Validate()
}

// Validate checks a genesis for consistency.
func (g *Genesis) Validate() error {
	if err := g.checkRules(); err != nil {
		return err
	}
	if len(g.Partners) == 0 {
		return fmt.Errorf("%w: no partners", ErrBadGenesis)
	}
	partners := map[Address]bool{}
	for i, p := range g.Partners {
		if p.Address == (Address{}) || partners[p.Address] {
			return fmt.Errorf("%w: partner %d (%q): zero or duplicate address", ErrBadGenesis, i, p.Name)
		}
		if len(p.Name) > 64 {
			return fmt.Errorf("%w: partner %d name longer than 64 bytes", ErrBadGenesis, i)
		}
		if g.Version() >= Version2 {
			if err := checkPartnerName(p.Name); err != nil {
				return fmt.Errorf("%w: partner %d: %v", ErrBadGenesis, i, err)
			}
		}
		partners[p.Address] = true
	}
	if err := checkValidators(g.Version(), g.Params, g.Validators, func(a Address) bool { return partners[a] }); err != nil {
		return fmt.Errorf("%w: %v", ErrBadGenesis, err)
	}
	if g.Version() >= Version2 {
		for i, v := range g.Validators {
			if err := checkValidatorText(v); err != nil {
				return fmt.Errorf("%w: validator %d: %v", ErrBadGenesis, i, err)
			}
		}
	}
	symbols := map[string]bool{}
	for i, p := range g.Programs {
		reg := RegisterProgram{Symbol: p.Symbol, Name: p.Name, Policy: p.Policy, Operators: p.Operators}
		if err := reg.check(); err != nil {
			return fmt.Errorf("%w: program %d: %v", ErrBadGenesis, i, err)
		}
		if symbols[p.Symbol] {
			return fmt.Errorf("%w: program %s listed twice", ErrBadGenesis, p.Symbol)
		}
		symbols[p.Symbol] = true
		if !partners[p.Owner] {
			return fmt.Errorf("%w: program %s: owner %s is not a partner", ErrBadGenesis, p.Symbol, p.Owner)
		}
	}
	return nil
}

// checkRules checks what a genesis fixes before it lists anyone: the chain's identity, its
// time, its limits, its protocol version and governance.
func (g *Genesis) checkRules() error {
	if g.ChainID == 0 {
		return fmt.Errorf("%w: chain_id must be non-zero", ErrBadGenesis)
	}
	if g.Network == "" || len(g.Network) > 64 {
		return fmt.Errorf("%w: network name must be 1 to 64 bytes", ErrBadGenesis)
	}
	if g.GenesisTime >= MaxBlockTime {
		return fmt.Errorf("%w: genesis_time %d is past the last block time %d", ErrBadGenesis, g.GenesisTime, MaxBlockTime)
	}
	if err := g.Params.check(); err != nil {
		return err
	}
	switch v := g.Version(); {
	case v > LatestVersion:
		return fmt.Errorf("%w: protocol_version %d is unknown to this node (it knows up to %d)", ErrBadGenesis, v, LatestVersion)
	case v == Version1 && g.ProtocolVersion != 0:
		return fmt.Errorf("%w: protocol_version 1 is written by leaving the field out (it keeps the genesis hash of chains launched before versions)", ErrBadGenesis)
	case v == Version1 && g.Governance != nil:
		return fmt.Errorf("%w: governance needs protocol_version 2 or later", ErrBadGenesis)
	case v >= Version2 && g.Governance == nil:
		return fmt.Errorf("%w: protocol_version %d needs a governance section", ErrBadGenesis, v)
	case v >= Version2 && (g.Governance.ProposalSeconds < 1 || g.Governance.ProposalSeconds > MaxProposalSeconds):
		return fmt.Errorf("%w: governance.proposal_seconds %d out of [1, %d]", ErrBadGenesis, g.Governance.ProposalSeconds, MaxProposalSeconds)
	case v >= Version2 && len(g.Partners) > MaxPartners:
		return fmt.Errorf("%w: %d partners, at most %d", ErrBadGenesis, len(g.Partners), MaxPartners)
	}
	return nil
}

// Encode is the canonical binary encoding of the genesis, the preimage of its hash.
func (g *Genesis) Encode() []byte {
	e := encoder{}
	e.U8('G')
	e.U8(encodingVersion)
	e.U64(g.ChainID)
	e.Str(g.Network)
	e.U64(g.GenesisTime)
	e.U32(uint32(len(g.Partners)))
	for _, p := range g.Partners {
		e.Str(p.Name)
		e.Address(p.Address)
	}
	encodeValidators(&e, g.Validators)
	p := g.Params
	for _, v := range []int{p.MaxBlockTxs, p.MaxBlockBytes, p.MaxTxBytes, p.MaxRefLen, p.MaxMemoLen, p.MaxCreditsPerEarn, p.MaxLots} {
		e.U64(uint64(v))
	}
	e.U32(uint32(len(g.Programs)))
	for _, pr := range g.Programs {
		e.Str(pr.Symbol)
		e.Str(pr.Name)
		e.Address(pr.Owner)
		encodeAddresses(&e, pr.Operators)
		pr.Policy.encode(&e)
	}
	// Version1's encoding ends here, so the genesis of every chain launched before versions
	// keeps its hash; a later version appends itself and what it adds.
	if v := g.Version(); v >= Version2 {
		e.U32(uint32(v))
		e.U64(g.Governance.ProposalSeconds)
	}
	return e.Buf
}

// Hash is the chain's identity: keccak256 of the canonical genesis encoding.
func (g *Genesis) Hash() Hash { return crypto.Keccak256Hash(g.Encode()) }

// InitState writes the genesis state (partners and programs) into s, which must be the state
// of height 0 at the genesis time.
func (g *Genesis) InitState(s *State) error {
	for _, p := range g.Partners {
		s.set(partnerKey(p.Address), append([]byte{recordVersion}, p.Name...)) // never empty: an empty value would read as absent
	}
	list := make([]string, 0, len(g.Programs))
	for _, gp := range g.Programs {
		s.putProgram(&Program{
			Symbol: gp.Symbol, Name: gp.Name, Owner: gp.Owner, Operators: gp.Operators,
			Policy: gp.Policy, ExpiredThrough: s.today,
		})
		list = append(list, gp.Symbol)
	}
	sort.Strings(list)
	if len(list) > 0 {
		s.putProgramList(list)
	}
	if g.Version() >= Version2 {
		// Governance counts partners at each approval and retires a removed partner's
		// programs, so it keeps the count and each program's partner (ADR 0009).
		s.putPartnerCount(uint32(len(g.Partners)))
		for _, gp := range g.Programs {
			s.putProgramPartner(gp.Symbol, gp.Owner)
		}
	}
	if g.Version() >= Version3 {
		// Validator governance judges each change against the last set decided and rebuilds
		// the schedule from state, so the set is in state from genesis on.
		s.initValidators(g.Validators)
	}
	return s.Err()
}

// checkValidatorText refuses control characters in what people read of a validator entry,
// its name and multiaddrs (Version2 on): they could rewrite what a terminal shows.
func checkValidatorText(v Validator) error {
	if err := checkDisplayName("validator name", v.Name, maxValidatorName); err != nil {
		return err
	}
	for _, a := range v.Addrs {
		if err := checkDisplayName("multiaddr", a, maxValidatorAddr); err != nil {
			return err
		}
	}
	return nil
}

// checkValidators checks a validator set as genesis and every change of rules must: 1 to
// MaxValidators members, names and multiaddrs bounded, each public key valid and matching its
// address, no key twice, each run by a partner (when isPartner is given), and blocks of p's
// size able to hold a max_tx_bytes transaction beside the set's certificate.
func checkValidators(v Version, p Params, vals []Validator, isPartner func(Address) bool) error {
	if len(vals) == 0 || len(vals) > MaxValidators {
		return fmt.Errorf("need 1 to %d validators, have %d", MaxValidators, len(vals))
	}
	// A block must always fit the largest transaction and the previous block's certificate.
	if need := BlockRoomNeeded(v, p.MaxTxBytes, len(vals)); p.MaxBlockBytes < need {
		return fmt.Errorf("max_block_bytes %d cannot hold a max_tx_bytes transaction and a certificate of %d validators (%d bytes)", p.MaxBlockBytes, len(vals), need)
	}
	seen := map[Address]bool{}
	for i, v := range vals {
		if len(v.Name) > maxValidatorName || len(v.Addrs) > maxValidatorAddrs {
			return fmt.Errorf("validator %d: name over %d bytes or more than %d multiaddrs", i, maxValidatorName, maxValidatorAddrs)
		}
		for _, a := range v.Addrs {
			if len(a) > maxValidatorAddr {
				return fmt.Errorf("validator %d: multiaddr over %d bytes", i, maxValidatorAddr)
			}
		}
		pub, err := crypto.DecompressPubkey(v.PubKey)
		if err != nil {
			return fmt.Errorf("validator %d (%q): bad pub_key: %v", i, v.Name, err)
		}
		addr := crypto.PubkeyToAddress(*pub)
		if v.Address != addr {
			return fmt.Errorf("validator %d (%q): address %s does not match pub_key (%s)", i, v.Name, v.Address, addr)
		}
		if seen[addr] {
			return fmt.Errorf("validator %d (%q): duplicate key", i, v.Name)
		}
		seen[addr] = true
		if isPartner != nil && !isPartner(v.Partner) {
			return fmt.Errorf("validator %d (%q): partner %s is not listed", i, v.Name, v.Partner)
		}
	}
	return nil
}

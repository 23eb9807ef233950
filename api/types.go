package api

import (
	"github.com/ethereum/go-ethereum/common/hexutil"

	"github.com/loyal-ledger/loyal/chain"
)

// The JSON bodies of the node's HTTP API. The wallet decodes exactly these types, so the
// server and its clients cannot drift apart. Points, heights, nonces and times are uint64
// and travel as decimal strings; small counts and indexes are JSON numbers.

// ErrorBody is the body of every non-2xx response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is a stable machine-readable code and a sentence for people.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Status is GET /v1/status.
type Status struct {
	ChainID     uint64        `json:"chain_id,string"`
	Network     string        `json:"network"`
	GenesisHash chain.Hash    `json:"genesis_hash"`
	Height      uint64        `json:"height,string"`
	HeadHash    chain.Hash    `json:"head_hash"`
	HeadTime    uint64        `json:"head_time,string"`
	StateRoot   chain.Hash    `json:"state_root"`
	Validator   chain.Address `json:"validator"` // this node's consensus address
	// Operator is the newest operator key the node holds: the one its merchant endpoints sign
	// with for every program that lists it. During a rotation of the key, Operators holds it
	// and the old one, newest first; otherwise Operators is just Operator. The node holds a key
	// only while its file loads: with none, Operator is the zero address and Operators empty,
	// and the merchant endpoints answer 503 no_operator_key.
	Operator  chain.Address   `json:"operator"`
	Operators []chain.Address `json:"operators"`
	Mempool   MempoolStatus   `json:"mempool"`
}

// MempoolStatus is how much the node's mempool holds.
type MempoolStatus struct {
	Txs   int `json:"txs"`
	Bytes int `json:"bytes"`
}

// TxStatus values.
const (
	TxPending   = "pending"
	TxCommitted = "committed"
)

// Submitted is the answer to POST /v1/txs and to the merchant endpoints: the transaction's id
// and, once committed (always for a committed duplicate, and with ?wait), where it landed.
type Submitted struct {
	Hash   chain.Hash `json:"hash"`
	Status string     `json:"status"`                  // TxPending or TxCommitted
	Height uint64     `json:"height,string,omitempty"` // set when committed
}

// TxInfo is GET /v1/txs/{hash}. Height and Index are set once committed.
type TxInfo struct {
	Hash   chain.Hash    `json:"hash"`
	Status string        `json:"status"`
	Height uint64        `json:"height,string,omitempty"`
	Index  int           `json:"index"`
	Kind   string        `json:"kind"`
	Sender chain.Address `json:"sender"`
	Tx     *chain.Tx     `json:"tx"`
}

// BlockInfo is GET /v1/blocks/{height|latest}, and each block of GET /v1/blocks: the block
// and a commit certificate for it.
//
// For every block below the node's head, Commit is the canonical certificate: the LastCommit
// carried by the next block, whose header's LastCommitHash commits to it. Every honest node
// serves the same one, byte for byte, and Canonical is true. The head has no next block yet:
// Commit is then the certificate this node holds for it (the precommits it collected, or the
// one a peer sent with the block), which another node may hold a different, equally valid set
// of, and Canonical is false. Ask again once the chain has grown for the head's canonical
// certificate.
type BlockInfo struct {
	Hash      chain.Hash    `json:"hash"`
	Block     *chain.Block  `json:"block"`
	Commit    *chain.Commit `json:"commit,omitempty"`
	Canonical bool          `json:"canonical"` // Commit is the one the next header commits to
}

// Blocks is GET /v1/blocks?from=A&to=B: the blocks from A up to B (B clipped to the head;
// absent, the head), ascending and consecutive, each as GET /v1/blocks/{height} serves it
// (only the head's certificate is not canonical). One answer is a page: at most
// httpapi.MaxBlockRange blocks and, past the first block, at most httpapi.MaxBlockRangeBytes
// of JSON. Next is the height to ask for next when the page stopped short of B and the head;
// it is absent (0) when the page reached them. Height is the node's head when it answered.
type Blocks struct {
	Height uint64      `json:"height,string"`
	Next   uint64      `json:"next,string,omitempty"`
	Blocks []BlockInfo `json:"blocks"`
}

// AccountInfo is GET /v1/accounts/{address}.
type AccountInfo struct {
	Address  chain.Address    `json:"address"`
	Height   uint64           `json:"height,string"` // the state the figures are as of
	Nonce    uint64           `json:"nonce,string"`  // the next nonce the account must use
	Programs []ProgramBalance `json:"programs"`
}

// ExpiringWindowDays is how far ahead ProgramBalance.Expiring looks.
const ExpiringWindowDays = 30

// ProgramBalance is an account's holding in one program, as of the head block's day.
type ProgramBalance struct {
	Program   string `json:"program"`
	Total     uint64 `json:"total,string"`     // available + pending
	Available uint64 `json:"available,string"` // spendable now
	Pending   uint64 `json:"pending,string"`   // still in the return window
	Earned    uint64 `json:"earned,string"`    // lifetime, net of reversals
	Tier      string `json:"tier"`             // "" when the program has no tiers
	// Expiring is what expires within ExpiringWindowDays of the head's day.
	Expiring uint64    `json:"expiring,string"`
	Lots     []LotInfo `json:"lots"`
}

// LotInfo is one lot with its days as dates (YYYY-MM-DD, UTC; "" for never).
type LotInfo struct {
	Amount      uint64 `json:"amount,string"`
	ExpiryDay   uint32 `json:"expiry_day"`
	Expires     string `json:"expires"`
	AvailableOn string `json:"available_on,omitempty"` // set while pending
}

// History is GET /v1/accounts/{address}/history?cursor=C&limit=N, oldest first. Next is
// the cursor of the following page, "" at the end.
type History struct {
	Address chain.Address  `json:"address"`
	Height  uint64         `json:"height,string"`
	Entries []HistoryEntry `json:"entries"`
	Next    string         `json:"next"`
}

// HistoryEntry is one entry of an account's history and the transaction that caused it.
type HistoryEntry struct {
	Height  uint64      `json:"height,string"`
	Time    uint64      `json:"time,string"`
	TxHash  chain.Hash  `json:"tx_hash"`
	TxIndex uint32      `json:"tx_index"`
	Entry   chain.Entry `json:"entry"`
	Kind    string      `json:"kind"`
}

// Programs is GET /v1/programs.
type Programs struct {
	Height   uint64        `json:"height,string"`
	Programs []ProgramInfo `json:"programs"`
}

// ProgramInfo is GET /v1/programs/{symbol}: the program and its derived totals.
type ProgramInfo struct {
	chain.Program
	Supply      uint64 `json:"supply,string"`      // ever minted: earned + exchanged in
	Outstanding uint64 `json:"outstanding,string"` // the merchant's liability, pending included
	Height      uint64 `json:"height,string"`
}

// Rates is GET /v1/rates: every route either owner has proposed.
type Rates struct {
	Height uint64     `json:"height,string"`
	Routes []RateInfo `json:"routes"`
}

// RateInfo is one exchange route From → To.
type RateInfo struct {
	From string `json:"from"`
	To   string `json:"to"`
	chain.Route
	Open bool   `json:"open"`
	Cap  uint64 `json:"cap,string"` // the daily cap in force, 0 = none
}

// Settlement is GET /v1/settlement: what each program's owner owes another's.
type Settlement struct {
	Height    uint64         `json:"height,string"`
	Positions []PositionInfo `json:"positions"`
}

// PositionInfo is what the owner of Debtor owes the owner of Creditor.
type PositionInfo struct {
	Debtor   string `json:"debtor"`
	Creditor string `json:"creditor"`
	chain.Position
	OpenAmount uint64 `json:"open,string"`
}

// TxProof is GET /v1/proofs/tx/{hash}: the transaction, its inclusion proof and the header
// whose tx root it verifies against.
type TxProof struct {
	Tx     *chain.Tx      `json:"tx"`
	Proof  *chain.TxProof `json:"proof"`
	Header *chain.Header  `json:"header"`
}

// AccountProof is GET /v1/proofs/account/{address}?program=SYM: the account's state record
// (or its absence), its proof against the header's state root, and the balance it shows. The
// record holds every program's balance; program is optional and picks the one Balance shows
// (without it, Program is "" and Balance 0). The header is not certified by itself: its
// certificate is GET /v1/blocks/{height}'s (audit/proof checks the two together).
type AccountProof struct {
	Address chain.Address     `json:"address"`
	Program string            `json:"program"`
	Balance uint64            `json:"balance,string"` // in Program, pending included
	Proof   *chain.StateProof `json:"proof"`
	Header  *chain.Header     `json:"header"`
}

// EIP712 is GET /v1/eip712: what an external wallet needs to sign Loyal transactions.
type EIP712 struct {
	Domain chain.Domain                   `json:"domain"`
	Types  map[string][]chain.EIP712Field `json:"types"`
}

// MerchantEarn is the body of POST /v1/merchant/earn.
type MerchantEarn struct {
	Program string         `json:"program"`
	Credits []chain.Credit `json:"credits"`
}

// MerchantReverse is the body of POST /v1/merchant/reverse.
type MerchantReverse struct {
	Program  string `json:"program"`
	OrderRef string `json:"order_ref"`
	Amount   uint64 `json:"amount,string"`
}

// Evidence is one proof of equivocation: two conflicting messages signed by one validator,
// in their canonical encodings (hex), for GET /v1/evidence.
type Evidence struct {
	Kind      string        `json:"kind"` // "vote" or "proposal"
	Validator chain.Address `json:"validator"`
	Height    uint64        `json:"height,string"`
	Round     uint32        `json:"round"`
	A         string        `json:"a"`
	B         string        `json:"b"`
}

// EvidenceList is GET /v1/evidence.
type EvidenceList struct {
	Evidence []Evidence `json:"evidence"`
}

// Partners is GET /v1/partners: the coalition's current partners and its open proposals
// (docs/adr/0009-partner-governance.md).
type Partners struct {
	Height uint64 `json:"height,string"`
	// Version is the protocol version in force at the next height; governance needs 2.
	Version   uint32         `json:"protocol_version"`
	Partners  []PartnerInfo  `json:"partners"`
	Proposals []ProposalInfo `json:"proposals"` // the open ones, oldest first
	// OpenTruncated: more proposals are open than Proposals lists (MaxProposalsPage); page
	// through GET /v1/governance/proposals?status=open for all of them.
	OpenTruncated bool `json:"open_truncated,omitempty"`
}

// PartnerInfo is one partner: its key, its name and its programs (those it registered or
// genesis gave it, or on a version 1 chain those its key owns), retired ones included.
type PartnerInfo struct {
	Address  chain.Address `json:"address"`
	Name     string        `json:"name"`
	Programs []string      `json:"programs"`
}

// Proposals is GET /v1/governance/proposals[?status=open|executed|failed|expired][&from=ID]
// [&limit=N], oldest first from id from (default 1): at most limit (default and most
// MaxProposalsPage) proposals. Next, when set, is the from of the following page.
type Proposals struct {
	Height    uint64         `json:"height,string"`
	Proposals []ProposalInfo `json:"proposals"`
	Next      uint64         `json:"next,string,omitempty"`
}

// MaxProposalsPage is the most proposals one page of GET /v1/governance/proposals holds, and
// the most open proposals GET /v1/partners lists (OpenTruncated says when there are more).
const MaxProposalsPage = 100

// ProposalInfo is GET /v1/governance/proposals/{id}: the proposal as the state holds it, its
// status at the head block's time, and its approvals as execution would count them now.
type ProposalInfo struct {
	chain.Proposal
	Status  string `json:"status"`  // open, executed, failed or expired
	Counted int    `json:"counted"` // approvals that count against today's partners
	Needed  int    `json:"needed"`  // approvals a pass needs today
}

// Validators is GET /v1/validators[?height=H] (docs/adr/0003-consensus.md, "Validator-set
// changes"): the validator set that certifies the block at Height (default: the block after
// the head, the set consensus uses now), the changes decided and not yet in force, and every
// epoch since genesis. Every node of a network answers the same for the same height.
type Validators struct {
	Head uint64 `json:"head,string"` // the head block's height when answered
	// Height is the height asked about, and Version the protocol version in force there.
	Height  uint64 `json:"height,string"`
	Version uint32 `json:"protocol_version"`
	// Set is the set in force at Height.
	Set ValidatorSet `json:"set"`
	// Scheduled are the sets decided for heights above Head+1, in activation order: a change
	// decided in block H takes effect at H+2.
	Scheduled []ValidatorSet `json:"scheduled"`
	// Epochs are all the sets the chain has had or will have, from genesis's (From 0) on,
	// without their members.
	Epochs []ValidatorEpoch `json:"epochs"`
}

// ValidatorSet is a validator set and the height from which it certifies blocks.
type ValidatorSet struct {
	From uint64 `json:"from,string"`
	// Hash is chain.ValidatorSetHash of the set (zero before protocol version 3): what the
	// header of block From-1 commits to as its next_validators.
	Hash       chain.Hash        `json:"hash"`
	Validators []chain.Validator `json:"validators"` // in proposer order
}

// ValidatorEpoch is one epoch of the validator set, for history.
type ValidatorEpoch struct {
	From  uint64     `json:"from,string"`
	Hash  chain.Hash `json:"hash"`
	Count int        `json:"count"`
}

// ValidatorEntry is what `loyald validator entry` writes and `loyal governance
// propose-validator --entry` reads: a validator entry and its key's proof of possession
// (chain.SignPossession under the chain's domain), as propose_validator carries them.
// Address, ChainID and Genesis are for the people comparing it; the proof binds the last two.
type ValidatorEntry struct {
	Entry   chain.ValidatorKey `json:"entry"`
	Proof   hexutil.Bytes      `json:"proof"`
	Address chain.Address      `json:"address"`
	ChainID uint64             `json:"chain_id,string"`
	Genesis chain.Hash         `json:"genesis"`
}

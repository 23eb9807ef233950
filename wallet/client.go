package wallet

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
)

// DefaultNodeURL is where a local node's API listens by default.
const DefaultNodeURL = "http://127.0.0.1:8645"

// MaxResponseBytes bounds how much of a node's answer the client reads.
const MaxResponseBytes = 32 << 20

// MaxHistoryLimit is the largest page GET /v1/accounts/{address}/history serves.
const MaxHistoryLimit = 1000

// Client talks to a node's HTTP JSON API, one method per endpoint, each decoding the
// api type of its answer. Every call takes a context, which bounds it: the Client sets
// no timeout of its own. A non-2xx answer is returned as an *APIError. The zero value with
// BaseURL set is ready to use; a Client is safe for concurrent use.
type Client struct {
	BaseURL string       // e.g. "http://127.0.0.1:8645"; a trailing slash is ignored
	HTTP    *http.Client // nil: http.DefaultClient

	mu     sync.Mutex
	signer *chain.Signer // the network's, from the first status fetched by Signer
}

// APIError is a non-2xx answer of the node: the HTTP status and the body's stable code and
// message. Answers that are not an api.ErrorBody (a proxy's error page) get the code
// "http_<status>".
type APIError struct {
	Status  int
	Code    string
	Message string
}

// Error is "CODE: message".
func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// decodeError turns a non-2xx answer into an *APIError.
func decodeError(status int, body []byte) *APIError {
	var b api.ErrorBody
	if err := json.Unmarshal(body, &b); err == nil && b.Error.Code != "" {
		return &APIError{Status: status, Code: b.Error.Code, Message: b.Error.Message}
	}
	msg := http.StatusText(status)
	if s := firstLine(body, 200); s != "" {
		msg += ": " + s
	}
	return &APIError{Status: status, Code: "http_" + strconv.Itoa(status), Message: msg}
}

// firstLine is the first line of b, trimmed, printable, and at most max runes.
func firstLine(b []byte, max int) string {
	s, _, _ := strings.Cut(string(b), "\n")
	s = strings.TrimSpace(s)
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, s)
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return s
}

func (c *Client) httpClient() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return http.DefaultClient
}

// do sends one request and decodes a 2xx answer into out.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body []byte, out any) error {
	u := strings.TrimRight(c.BaseURL, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("wallet: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return fmt.Errorf("wallet: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return fmt.Errorf("wallet: %s %s: reading the answer: %w", method, path, err)
	}
	if len(data) > MaxResponseBytes {
		return fmt.Errorf("%w: %s %s answered more than %d bytes", ErrResponseTooLarge, method, path, MaxResponseBytes)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeError(resp.StatusCode, data)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("wallet: %s %s: decoding the answer: %w", method, path, err)
	}
	return nil
}

func (c *Client) get(ctx context.Context, path string, query url.Values, out any) error {
	return c.do(ctx, http.MethodGet, path, query, nil, out)
}

// Status is GET /v1/status.
func (c *Client) Status(ctx context.Context) (api.Status, error) {
	var s api.Status
	err := c.get(ctx, "/v1/status", nil, &s)
	return s, err
}

// Signer returns the network's transaction signer, built from the node's chain id and
// genesis hash on the first call and cached for the Client's life.
func (c *Client) Signer(ctx context.Context) (*chain.Signer, error) {
	c.mu.Lock()
	s := c.signer
	c.mu.Unlock()
	if s != nil {
		return s, nil
	}
	st, err := c.Status(ctx)
	if err != nil {
		return nil, err
	}
	if st.GenesisHash == (chain.Hash{}) {
		return nil, errors.New("wallet: the node reported no genesis hash")
	}
	s = chain.NewSigner(st.ChainID, st.GenesisHash)
	c.mu.Lock()
	if c.signer == nil {
		c.signer = s
	}
	s = c.signer
	c.mu.Unlock()
	return s, nil
}

// SubmitTx is POST /v1/txs with the signed transaction's JSON.
func (c *Client) SubmitTx(ctx context.Context, tx *chain.Tx) (api.Submitted, error) {
	body, err := json.Marshal(tx)
	if err != nil {
		return api.Submitted{}, fmt.Errorf("wallet: encoding the transaction: %w", err)
	}
	var s api.Submitted
	err = c.do(ctx, http.MethodPost, "/v1/txs", nil, body, &s)
	return s, err
}

// Tx is GET /v1/txs/{hash}. With wait > 0 the node holds the answer until the transaction
// is committed or wait (whole seconds, at most 30 s) has passed, then answers "pending".
// An unknown transaction is an *APIError with code "not_found".
func (c *Client) Tx(ctx context.Context, hash chain.Hash, wait time.Duration) (api.TxInfo, error) {
	var q url.Values
	if wait > 0 {
		secs := int64(wait / time.Second)
		if secs < 1 {
			secs = 1
		}
		q = url.Values{"wait": {strconv.FormatInt(secs, 10) + "s"}}
	}
	var t api.TxInfo
	err := c.get(ctx, "/v1/txs/"+hash.Hex(), q, &t)
	return t, err
}

// Genesis is GET /v1/genesis: the genesis the node runs. It is the node's word: an auditor
// compares its hash with a genesis file it trusts.
func (c *Client) Genesis(ctx context.Context) (*chain.Genesis, error) {
	var raw json.RawMessage
	if err := c.get(ctx, "/v1/genesis", nil, &raw); err != nil {
		return nil, err
	}
	g, err := chain.ParseGenesis(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: genesis: %w", ErrBadAnswer, err)
	}
	return g, nil
}

// Block is GET /v1/blocks/{height}.
func (c *Client) Block(ctx context.Context, height uint64) (api.BlockInfo, error) {
	var b api.BlockInfo
	err := c.get(ctx, "/v1/blocks/"+strconv.FormatUint(height, 10), nil, &b)
	return b, err
}

// LatestBlock is GET /v1/blocks/latest.
func (c *Client) LatestBlock(ctx context.Context) (api.BlockInfo, error) {
	var b api.BlockInfo
	err := c.get(ctx, "/v1/blocks/latest", nil, &b)
	return b, err
}

// Blocks is one page of GET /v1/blocks?from=A&to=B: the blocks from from up to to (0: up to
// the head), ascending, as many as the node serves in one answer; Next says where the next
// page starts, 0 once the page reached to or the head. A from beyond the head is an
// *APIError with code "not_found". The answer is checked to start at from and to hold
// consecutive heights no higher than to (ErrBadAnswer otherwise); the blocks and their
// certificates themselves are the caller's to verify.
func (c *Client) Blocks(ctx context.Context, from, to uint64) (api.Blocks, error) {
	q := url.Values{"from": {strconv.FormatUint(from, 10)}}
	if to > 0 {
		q.Set("to", strconv.FormatUint(to, 10))
	}
	var page api.Blocks
	if err := c.get(ctx, "/v1/blocks", q, &page); err != nil {
		return api.Blocks{}, err
	}
	if err := checkBlocks(page, from, to); err != nil {
		return api.Blocks{}, err
	}
	return page, nil
}

// checkBlocks checks that page answers GET /v1/blocks?from=from&to=to (to 0: no to).
func checkBlocks(page api.Blocks, from, to uint64) error {
	if len(page.Blocks) == 0 {
		return fmt.Errorf("%w: blocks from %d: an empty page", ErrBadAnswer, from)
	}
	for i, b := range page.Blocks {
		if b.Block == nil || b.Block.Header.Height != from+uint64(i) {
			return fmt.Errorf("%w: blocks from %d: entry %d is not block %d", ErrBadAnswer, from, i, from+uint64(i))
		}
	}
	last := from + uint64(len(page.Blocks)) - 1
	switch {
	case to > 0 && last > to:
		return fmt.Errorf("%w: blocks from %d to %d: the page goes on to %d", ErrBadAnswer, from, to, last)
	case last > page.Height:
		return fmt.Errorf("%w: blocks from %d: the page goes on to %d, past the head %d", ErrBadAnswer, from, last, page.Height)
	case page.Next != 0 && (page.Next != last+1 || page.Next > page.Height || to > 0 && page.Next > to):
		return fmt.Errorf("%w: blocks from %d: the page ends at %d but says to go on from %d", ErrBadAnswer, from, last, page.Next)
	}
	return nil
}

// EachBlock calls fn with every block from from up to to (0: up to the head when the pages
// are fetched), in ascending order, following Blocks' pages; it stops at fn's first error
// and returns it. Only the node's head comes with a certificate that is not canonical
// (api.BlockInfo.Canonical): a caller that needs certified blocks only stops before it.
// fn may keep the BlockInfo it is given.
func (c *Client) EachBlock(ctx context.Context, from, to uint64, fn func(api.BlockInfo) error) error {
	for {
		page, err := c.Blocks(ctx, from, to)
		if err != nil {
			return err
		}
		for _, b := range page.Blocks {
			if err := fn(b); err != nil {
				return err
			}
		}
		if page.Next == 0 {
			return nil
		}
		from = page.Next
	}
}

// Account is GET /v1/accounts/{address}.
func (c *Client) Account(ctx context.Context, a chain.Address) (api.AccountInfo, error) {
	var info api.AccountInfo
	err := c.get(ctx, "/v1/accounts/"+a.Hex(), nil, &info)
	return info, err
}

// History is one page of GET /v1/accounts/{address}/history, oldest first: from cursor (""
// for the start) and at most limit entries (0 for the node's default).
func (c *Client) History(ctx context.Context, a chain.Address, cursor string, limit int) (api.History, error) {
	q := url.Values{}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	var h api.History
	err := c.get(ctx, "/v1/accounts/"+a.Hex()+"/history", q, &h)
	return h, err
}

// HistoryAll follows History's cursors from cursor to the end, pageSize entries a page
// (0: MaxHistoryLimit), and returns every entry in one History whose Height is the first
// page's and whose Next is "".
func (c *Client) HistoryAll(ctx context.Context, a chain.Address, cursor string, pageSize int) (api.History, error) {
	if pageSize <= 0 {
		pageSize = MaxHistoryLimit
	}
	var all api.History
	seen := map[string]bool{cursor: true}
	for first := true; ; first = false {
		page, err := c.History(ctx, a, cursor, pageSize)
		if err != nil {
			return api.History{}, err
		}
		if first {
			all.Address, all.Height = page.Address, page.Height
		}
		all.Entries = append(all.Entries, page.Entries...)
		if page.Next == "" {
			return all, nil
		}
		if seen[page.Next] {
			return api.History{}, fmt.Errorf("wallet: history: the node repeated cursor %q", page.Next)
		}
		seen[page.Next] = true
		cursor = page.Next
	}
}

// Programs is GET /v1/programs.
func (c *Client) Programs(ctx context.Context) (api.Programs, error) {
	var p api.Programs
	err := c.get(ctx, "/v1/programs", nil, &p)
	return p, err
}

// Program is GET /v1/programs/{symbol}.
func (c *Client) Program(ctx context.Context, symbol string) (api.ProgramInfo, error) {
	var p api.ProgramInfo
	err := c.get(ctx, "/v1/programs/"+url.PathEscape(symbol), nil, &p)
	return p, err
}

// Rates is GET /v1/rates.
func (c *Client) Rates(ctx context.Context) (api.Rates, error) {
	var r api.Rates
	err := c.get(ctx, "/v1/rates", nil, &r)
	return r, err
}

// Settlement is GET /v1/settlement.
func (c *Client) Settlement(ctx context.Context) (api.Settlement, error) {
	var s api.Settlement
	err := c.get(ctx, "/v1/settlement", nil, &s)
	return s, err
}

// TxProof is GET /v1/proofs/tx/{hash}.
func (c *Client) TxProof(ctx context.Context, hash chain.Hash) (api.TxProof, error) {
	var p api.TxProof
	err := c.get(ctx, "/v1/proofs/tx/"+hash.Hex(), nil, &p)
	return p, err
}

// AccountProof is GET /v1/proofs/account/{address}?program=SYM: the proof of the account's
// whole record; program ("" for none) picks the balance the answer shows.
func (c *Client) AccountProof(ctx context.Context, a chain.Address, program string) (api.AccountProof, error) {
	var p api.AccountProof
	var q url.Values
	if program != "" {
		q = url.Values{"program": {program}}
	}
	err := c.get(ctx, "/v1/proofs/account/"+a.Hex(), q, &p)
	return p, err
}

// EIP712 is GET /v1/eip712.
func (c *Client) EIP712(ctx context.Context) (api.EIP712, error) {
	var e api.EIP712
	err := c.get(ctx, "/v1/eip712", nil, &e)
	return e, err
}

// Evidence is GET /v1/evidence: the equivocations (conflicting signed votes or proposals)
// the node has seen.
func (c *Client) Evidence(ctx context.Context) (api.EvidenceList, error) {
	var e api.EvidenceList
	err := c.get(ctx, "/v1/evidence", nil, &e)
	return e, err
}

// Partners is GET /v1/partners: the current partners and the open proposals.
func (c *Client) Partners(ctx context.Context) (api.Partners, error) {
	var p api.Partners
	err := c.get(ctx, "/v1/partners", nil, &p)
	return p, err
}

// Validators is GET /v1/validators: the set at height (0: the set that certifies the next
// block), the changes scheduled and the epochs.
func (c *Client) Validators(ctx context.Context, height uint64) (api.Validators, error) {
	q := url.Values{}
	if height > 0 {
		q.Set("height", strconv.FormatUint(height, 10))
	}
	var v api.Validators
	err := c.get(ctx, "/v1/validators", q, &v)
	return v, err
}

// ProposalsPage is one page of GET /v1/governance/proposals: from id from (0: the first) on,
// status "" for every proposal, otherwise only those open, executed, failed or expired.
func (c *Client) ProposalsPage(ctx context.Context, status string, from uint64) (api.Proposals, error) {
	q := url.Values{}
	if status != "" {
		q.Set("status", status)
	}
	if from != 0 {
		q.Set("from", strconv.FormatUint(from, 10))
	}
	var p api.Proposals
	err := c.get(ctx, "/v1/governance/proposals", q, &p)
	return p, err
}

// Proposals follows ProposalsPage from the first proposal to the last and returns them all
// in one Proposals whose Height is the first page's.
func (c *Client) Proposals(ctx context.Context, status string) (api.Proposals, error) {
	all, err := c.ProposalsPage(ctx, status, 0)
	for err == nil && all.Next != 0 {
		var page api.Proposals
		if page, err = c.ProposalsPage(ctx, status, all.Next); err == nil {
			if page.Next != 0 && page.Next <= all.Next {
				return all, fmt.Errorf("%w: proposals page from %d names %d next", ErrBadAnswer, all.Next, page.Next)
			}
			all.Proposals, all.Next = append(all.Proposals, page.Proposals...), page.Next
		}
	}
	return all, err
}

// Proposal is GET /v1/governance/proposals/{id}.
func (c *Client) Proposal(ctx context.Context, id uint64) (api.ProposalInfo, error) {
	var p api.ProposalInfo
	err := c.get(ctx, "/v1/governance/proposals/"+strconv.FormatUint(id, 10), nil, &p)
	return p, err
}

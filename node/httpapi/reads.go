package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
)

// History page sizes (GET /v1/accounts/{address}/history?limit=N).
const (
	DefaultHistoryLimit = 100
	MaxHistoryLimit     = 1000
)

func (s *Server) status(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, s.b.Status())
}

// Block range pages (GET /v1/blocks?from=A&to=B).
const (
	// MaxBlockRange is the most blocks one answer holds.
	MaxBlockRange = 100
	// MaxBlockRangeBytes bounds the JSON of one answer: a page stops before the block that
	// would take it past this, unless that block is the first (a block's JSON can be larger).
	MaxBlockRangeBytes = 8 << 20
)

// block is GET /v1/blocks/{height|latest}.
func (s *Server) block(w http.ResponseWriter, r *http.Request) error {
	l := s.l
	arg := r.PathValue("height")
	var height uint64
	if arg == "latest" {
		height = l.Head().Height
	} else {
		h, err := strconv.ParseUint(arg, 10, 64)
		if err != nil {
			return fmt.Errorf("%w: block %q: want a height or \"latest\"", ErrBadRequest, arg)
		}
		height = h
	}
	if height == 0 {
		return fmt.Errorf("%w: height 0 is the genesis state, not a block", ErrNotFound)
	}
	blk, err := l.Block(height)
	if err != nil {
		return err
	}
	info, _, err := s.blockInfo(blk)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, info)
}

// blockInfo is blk with its certificate: the canonical one, carried by the next block, when
// the ledger holds that block (returned too, so that a range reads each block once); else,
// blk being the head, the one this node holds, marked as not canonical.
func (s *Server) blockInfo(blk *chain.Block) (api.BlockInfo, *chain.Block, error) {
	info := api.BlockInfo{Hash: blk.Hash(), Block: blk}
	next, err := s.l.Block(blk.Header.Height + 1)
	if err == nil {
		if next.LastCommit == nil || next.LastCommit.BlockHash != info.Hash { // the ledger checked both
			return api.BlockInfo{}, nil, fmt.Errorf("%w: block %d carries no certificate of block %d", ledger.ErrCorrupt, next.Header.Height, blk.Header.Height)
		}
		info.Commit, info.Canonical = next.LastCommit, true
		return info, next, nil
	}
	if !errors.Is(err, ledger.ErrNotFound) {
		return api.BlockInfo{}, nil, err
	}
	c, err := s.l.SeenCommit(blk.Header.Height)
	if err != nil && !errors.Is(err, ledger.ErrNotFound) { // none: served without one
		return api.BlockInfo{}, nil, err
	}
	info.Commit = c
	return info, nil, nil
}

// blocksPage is api.Blocks with each block encoded already: the page is cut by its size.
// TestBlocksPageIsAPIBlocks checks that the two encode alike.
type blocksPage struct {
	Height uint64            `json:"height,string"`
	Next   uint64            `json:"next,string,omitempty"`
	Blocks []json.RawMessage `json:"blocks"`
}

// blocks is GET /v1/blocks?from=A&to=B (api.Blocks): from A to B or the head, whichever is
// lower, at most MaxBlockRange blocks and MaxBlockRangeBytes of JSON but at least one block.
func (s *Server) blocks(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	from, err := heightParam(q, "from")
	if err != nil {
		return err
	}
	to := uint64(math.MaxUint64)
	if q.Has("to") {
		if to, err = heightParam(q, "to"); err != nil {
			return err
		}
	}
	switch head := s.l.Head().Height; {
	case from == 0:
		return fmt.Errorf("%w: from=0: the first block is 1", ErrBadRequest)
	case to < from:
		return fmt.Errorf("%w: to=%d is below from=%d", ErrBadRequest, to, from)
	case from > head:
		return fmt.Errorf("%w: from=%d is beyond the head, %d", ErrNotFound, from, head)
	default:
		to = min(to, head)
		page := blocksPage{Height: head}
		if err := s.fillPage(&page, from, to); err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, page)
	}
}

// fillPage puts blocks from..to (to at most the head) into page, as many as the limits let
// it, and sets page.Next if it stopped short of to.
func (s *Server) fillPage(page *blocksPage, from, to uint64) error {
	// Every byte but the blocks' and their commas, with the widest Next.
	size := len(`{"height":"","next":"","blocks":[]}`+"\n") + 2*len(strconv.FormatUint(math.MaxUint64, 10))
	blk, err := s.l.Block(from)
	if err != nil {
		return err
	}
	for h := from; ; h++ {
		if len(page.Blocks) == MaxBlockRange {
			page.Next = h
			return nil
		}
		info, next, err := s.blockInfo(blk)
		if err != nil {
			return err
		}
		raw, err := json.Marshal(info)
		if err != nil {
			return err
		}
		if len(page.Blocks) > 0 {
			size++ // the comma before it
		}
		if size += len(raw); len(page.Blocks) > 0 && size > MaxBlockRangeBytes {
			page.Next = h
			return nil
		}
		page.Blocks = append(page.Blocks, raw)
		if h == to {
			return nil
		}
		if blk = next; blk == nil { // h < to ≤ the head, so the ledger holds block h+1
			return fmt.Errorf("%w: no block %d below the head", ledger.ErrCorrupt, h+1)
		}
	}
}

// heightParam reads the query parameter name, given once, as a decimal height.
func heightParam(q url.Values, name string) (uint64, error) {
	vs := q[name]
	if len(vs) != 1 {
		return 0, fmt.Errorf("%w: want one %s=HEIGHT, got %d", ErrBadRequest, name, len(vs))
	}
	h, err := strconv.ParseUint(vs[0], 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: %s=%q is not a height", ErrBadRequest, name, vs[0])
	}
	return h, nil
}

// account is GET /v1/accounts/{address}: balances as of the head block's day.
func (s *Server) account(w http.ResponseWriter, r *http.Request) error {
	a, err := parseAddress(r.PathValue("address"))
	if err != nil {
		return err
	}
	l := s.l
	head := l.Head()
	acc, err := l.Account(a)
	if err != nil {
		return err
	}
	nonce, err := s.b.NextNonce(a)
	if err != nil {
		return err
	}
	today := chain.DayOf(head.Time)
	info := api.AccountInfo{Address: a, Height: head.Height, Nonce: nonce, Programs: []api.ProgramBalance{}}
	for i := range acc.Holdings {
		h := &acc.Holdings[i]
		p, err := l.Program(h.Program)
		if err != nil {
			return err
		}
		b := &h.Balance
		pb := api.ProgramBalance{
			Program: h.Program, Total: b.Total(today), Available: b.Available(today), Pending: b.Pending(today),
			Earned: b.Earned, Tier: b.Tier(p.Policy, today), Expiring: b.ExpiringBy(today, today+api.ExpiringWindowDays),
			Lots: make([]api.LotInfo, 0, len(b.Lots)),
		}
		for _, lot := range b.Lots {
			li := api.LotInfo{Amount: lot.Amount, ExpiryDay: lot.Expiry, Expires: dayString(lot.Expiry)}
			if lot.Available > today {
				li.AvailableOn = dayString(lot.Available)
			}
			pb.Lots = append(pb.Lots, li)
		}
		info.Programs = append(info.Programs, pb)
	}
	return writeJSON(w, http.StatusOK, info)
}

// dayString is a day as YYYY-MM-DD (UTC), "" for never.
func dayString(d chain.Day) string {
	if d == chain.NeverExpires {
		return ""
	}
	return time.Unix(int64(d)*chain.SecondsPerDay, 0).UTC().Format(time.DateOnly)
}

// history is GET /v1/accounts/{address}/history?cursor=C&limit=N, oldest first.
func (s *Server) history(w http.ResponseWriter, r *http.Request) error {
	a, err := parseAddress(r.PathValue("address"))
	if err != nil {
		return err
	}
	q := r.URL.Query()
	limit := DefaultHistoryLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxHistoryLimit {
			return fmt.Errorf("%w: limit=%q: want 1 to %d", ErrBadRequest, v, MaxHistoryLimit)
		}
		limit = n
	}
	var from ledger.HistoryCursor
	if v := q.Get("cursor"); v != "" {
		if from, err = ParseCursor(v); err != nil {
			return err
		}
	}
	l := s.l
	head := l.Head()
	recs, next, err := l.History(a, from, limit)
	if err != nil {
		return err
	}
	out := api.History{Address: a, Height: head.Height, Entries: make([]api.HistoryEntry, len(recs))}
	for i, rec := range recs {
		out.Entries[i] = api.HistoryEntry{
			Height: rec.Height, Time: rec.Time, TxHash: rec.TxHash, TxIndex: rec.TxIndex, Entry: rec.Entry, Kind: rec.Kind.String(),
		}
	}
	if next != nil {
		out.Next = FormatCursor(*next)
	}
	return writeJSON(w, http.StatusOK, out)
}

// FormatCursor writes a history cursor as "HEIGHT-TXINDEX-ENTRY".
func FormatCursor(c ledger.HistoryCursor) string {
	return fmt.Sprintf("%d-%d-%d", c.Height, c.TxIndex, c.Entry)
}

// ParseCursor reads a cursor FormatCursor wrote.
func ParseCursor(s string) (ledger.HistoryCursor, error) {
	var c ledger.HistoryCursor
	parts := strings.Split(s, "-")
	if len(parts) != 3 {
		return c, fmt.Errorf("%w: cursor %q: want HEIGHT-TXINDEX-ENTRY", ErrBadRequest, s)
	}
	h, err1 := strconv.ParseUint(parts[0], 10, 64)
	i, err2 := strconv.ParseUint(parts[1], 10, 32)
	e, err3 := strconv.ParseUint(parts[2], 10, 32)
	if err := errors.Join(err1, err2, err3); err != nil {
		return c, fmt.Errorf("%w: cursor %q: want HEIGHT-TXINDEX-ENTRY", ErrBadRequest, s)
	}
	return ledger.HistoryCursor{Height: h, TxIndex: uint32(i), Entry: uint32(e)}, nil
}

func programInfo(p *chain.Program, height uint64) api.ProgramInfo {
	return api.ProgramInfo{Program: *p, Supply: p.Stats.Supply(), Outstanding: p.Stats.Outstanding(), Height: height}
}

// programs is GET /v1/programs.
func (s *Server) programs(w http.ResponseWriter, r *http.Request) error {
	l := s.l
	out := api.Programs{Height: l.Head().Height, Programs: []api.ProgramInfo{}}
	err := l.Programs(func(p *chain.Program) error {
		out.Programs = append(out.Programs, programInfo(p, out.Height))
		return nil
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// program is GET /v1/programs/{symbol}: 404 for a symbol no program has.
func (s *Server) program(w http.ResponseWriter, r *http.Request) error {
	sym := r.PathValue("symbol")
	if !chain.ValidSymbol(sym) {
		return fmt.Errorf("%w: %q", chain.ErrBadSymbol, sym)
	}
	l := s.l
	height := l.Head().Height
	p, err := l.Program(sym)
	if errors.Is(err, chain.ErrUnknownProgram) {
		// A read of something that does not exist is a 404; the code unknown_program stays
		// with the transactions that name one (400).
		return fmt.Errorf("%w: no program %s", ErrNotFound, sym)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, programInfo(p, height))
}

// rates is GET /v1/rates.
func (s *Server) rates(w http.ResponseWriter, r *http.Request) error {
	l := s.l
	out := api.Rates{Height: l.Head().Height, Routes: []api.RateInfo{}}
	err := l.Routes(func(from, to string, rt *chain.Route) error {
		out.Routes = append(out.Routes, api.RateInfo{From: from, To: to, Route: *rt, Open: rt.Open(), Cap: rt.Cap()})
		return nil
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// settlement is GET /v1/settlement.
func (s *Server) settlement(w http.ResponseWriter, r *http.Request) error {
	l := s.l
	out := api.Settlement{Height: l.Head().Height, Positions: []api.PositionInfo{}}
	err := l.Positions(func(debtor, creditor string, p *chain.Position) error {
		out.Positions = append(out.Positions, api.PositionInfo{Debtor: debtor, Creditor: creditor, Position: *p, OpenAmount: p.Open()})
		return nil
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// txProof is GET /v1/proofs/tx/{hash}.
func (s *Server) txProof(w http.ResponseWriter, r *http.Request) error {
	h, err := parseHash(r.PathValue("hash"))
	if err != nil {
		return err
	}
	l := s.l
	proof, header, err := l.TxProof(h)
	if err != nil {
		return err
	}
	blk, err := l.Block(header.Height)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.TxProof{Tx: blk.Txs[proof.Index], Proof: proof, Header: header})
}

// accountProof is GET /v1/proofs/account/{address}?program=SYM. The proof is of the whole
// account record, every program's balance; program, optional, only picks the one Balance shows.
func (s *Server) accountProof(w http.ResponseWriter, r *http.Request) error {
	a, err := parseAddress(r.PathValue("address"))
	if err != nil {
		return err
	}
	sym := r.URL.Query().Get("program")
	if r.URL.Query().Has("program") && !chain.ValidSymbol(sym) {
		return fmt.Errorf("%w: program=%q", chain.ErrBadSymbol, sym)
	}
	l := s.l
	proof, err := l.ProveAccount(a)
	if err != nil {
		return err
	}
	blk, err := l.Block(proof.Height)
	if proof.Height == 0 {
		return fmt.Errorf("%w: no block yet to prove against", ErrNotFound)
	}
	if err != nil {
		return err
	}
	out := api.AccountProof{Address: a, Program: sym, Proof: proof, Header: &blk.Header}
	if proof.Value != nil {
		acc, err := chain.DecodeAccount(proof.Value)
		if err != nil {
			return err
		}
		if b := acc.Balance(sym); sym != "" && b != nil {
			out.Balance = b.Total(chain.DayOf(blk.Header.Time))
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// eip712 is GET /v1/eip712.
func (s *Server) eip712(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, api.EIP712{Domain: s.l.Signer().Domain(), Types: chain.EIP712Types()})
}

// genesis is GET /v1/genesis: the chain's genesis, as the genesis file says it. An auditor
// compares its hash with the genesis it trusts; the node's word is not proof of anything.
func (s *Server) genesis(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, s.l.Genesis())
}

// evidence is GET /v1/evidence: conflicting messages signed by one validator.
func (s *Server) evidence(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, api.EvidenceList{Evidence: append([]api.Evidence{}, s.b.Evidence()...)})
}

package httpapi

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
	"github.com/loyal-ledger/loyal/internal/jsonstrict"
)

// Ledger is what the API reads of the committed chain, and all it reads of it: the server
// never writes through it. *ledger.Ledger implements it.
type Ledger interface {
	Head() ledger.Head
	Block(height uint64) (*chain.Block, error)
	SeenCommit(height uint64) (*chain.Commit, error)
	Account(a chain.Address) (*chain.Account, error)
	Program(symbol string) (*chain.Program, error)
	History(a chain.Address, from ledger.HistoryCursor, limit int) ([]ledger.HistoryRecord, *ledger.HistoryCursor, error)
	Programs(fn func(p *chain.Program) error) error
	Routes(fn func(from, to string, r *chain.Route) error) error
	Positions(fn func(debtor, creditor string, p *chain.Position) error) error
	ProveAccount(a chain.Address) (*chain.StateProof, error)
	TxProof(h chain.Hash) (*chain.TxProof, *chain.Header, error)
	TxLocation(h chain.Hash) (height uint64, index int, err error)
	Signer() *chain.Signer
	Genesis() *chain.Genesis
	RulesAt(height uint64) *chain.Rules
	// Activations are the changes of rules after genesis (validator-set changes), oldest
	// first, including those decided and not yet in force.
	Activations() []chain.Activation
	Partners(fn func(p chain.PartnerInfo) error) error
	ProposalsFrom(first uint64, fn func(p *chain.Proposal) error) error
	LastProposalID() (uint64, error)
	Proposal(id uint64) (*chain.Proposal, error)
	ProgramPartner(symbol string) (chain.Address, bool, error)
}

var _ Ledger = (*ledger.Ledger)(nil)

// Backend is what the API asks of the node beyond the committed chain: its status, the
// mempool, and the merchant endpoints.
type Backend interface {
	Status() api.Status
	Submit(tx *chain.Tx) (api.Submitted, error)
	PendingTx(h chain.Hash) (*chain.Tx, chain.Address, bool)
	NextNonce(a chain.Address) (uint64, error)
	// WaitCommitted returns nil once h is committed, ledger.ErrNotFound if it left the
	// mempool uncommitted, or ctx's error.
	WaitCommitted(ctx context.Context, h chain.Hash) error
	// MerchantTokens are the bearer tokens the merchant endpoints accept (two during a
	// rotation of the token); none accepts no request.
	MerchantTokens() []string
	MerchantEarn(req api.MerchantEarn) (api.Submitted, error)
	MerchantReverse(req api.MerchantReverse) (api.Submitted, error)
	Evidence() []api.Evidence
}

// MaxWait caps the ?wait= of a request: the node holds a request at most this long.
const MaxWait = 30 * time.Second

// API error codes of the API itself (the ledger's codes pass through unchanged).
var (
	ErrBadRequest   = &chain.Error{Code: "bad_request", Msg: "bad request"}
	ErrNotFound     = &chain.Error{Code: "not_found", Msg: "not found"}
	ErrUnauthorized = &chain.Error{Code: "unauthorized", Msg: "missing or wrong bearer token"}
	ErrTooLarge     = &chain.Error{Code: "request_too_large", Msg: "request body exceeds the node's limit"}
	// ErrMethodNotAllowed is a method the path has no endpoint for (405, with Allow).
	ErrMethodNotAllowed = &chain.Error{Code: "method_not_allowed", Msg: "method not allowed"}
	// ErrRateLimited is a client over its write rate (429, with Retry-After).
	ErrRateLimited = &chain.Error{Code: "rate_limited", Msg: "too many writes from this client"}
)

// Server answers the HTTP API.
type Server struct {
	b       Backend
	l       Ledger
	log     *slog.Logger
	latency *prometheus.HistogramVec
	reg     *prometheus.Registry
	maxBody int64
	writes  *writeLimiter // nil: writes are not rate-limited
}

// NewServer makes the API over the node b and its committed chain l. latency (by route and status) and reg (served at /metrics)
// may be nil.
func NewServer(b Backend, l Ledger, log *slog.Logger, latency *prometheus.HistogramVec, reg *prometheus.Registry, maxBody int64) *Server {
	return &Server{b: b, l: l, log: log, latency: latency, reg: reg, maxBody: maxBody}
}

// Handler routes every endpoint.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	handle := func(pattern string, h func(w http.ResponseWriter, r *http.Request) error) {
		mux.Handle(pattern, s.wrap(pattern, h))
	}
	handle("GET /v1/status", s.status)
	handle("POST /v1/txs", s.limitWrites(s.submit))
	handle("GET /v1/txs/{hash}", s.tx)
	handle("GET /v1/blocks", s.blocks)
	handle("GET /v1/blocks/{height}", s.block)
	handle("GET /v1/accounts/{address}", s.account)
	handle("GET /v1/accounts/{address}/history", s.history)
	handle("GET /v1/programs", s.programs)
	handle("GET /v1/programs/{symbol}", s.program)
	handle("GET /v1/rates", s.rates)
	handle("GET /v1/settlement", s.settlement)
	handle("GET /v1/proofs/tx/{hash}", s.txProof)
	handle("GET /v1/proofs/account/{address}", s.accountProof)
	handle("GET /v1/eip712", s.eip712)
	handle("GET /v1/genesis", s.genesis)
	handle("GET /v1/evidence", s.evidence)
	handle("GET /v1/partners", s.partners)
	handle("GET /v1/validators", s.validators)
	handle("GET /v1/governance/proposals", s.proposals)
	handle("GET /v1/governance/proposals/{id}", s.proposal)
	handle("POST /v1/merchant/earn", s.limitWrites(s.merchant(s.merchantEarn)))
	handle("POST /v1/merchant/reverse", s.limitWrites(s.merchant(s.merchantReverse)))
	if s.reg != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	}
	// No catch-all pattern: it would match every method and hide the mux's 405. A request no
	// pattern takes gets the mux's own answer (404, or 405 with Allow) rendered as our JSON.
	other := s.wrap("other", func(w http.ResponseWriter, r *http.Request) error { return noRoute(mux, w, r) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			other.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// noRoute answers a request no pattern takes: 405 with the Allow header when the path has
// endpoints for other methods, 404 otherwise (or the mux's redirect, e.g. of an unclean path).
func noRoute(mux *http.ServeMux, w http.ResponseWriter, r *http.Request) error {
	h, _ := mux.Handler(r)
	rec := &headerRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	switch rec.status {
	case http.StatusMethodNotAllowed:
		allow := rec.header.Get("Allow")
		w.Header().Set("Allow", allow)
		return fmt.Errorf("%w: %s %s: allowed: %s", ErrMethodNotAllowed, r.Method, r.URL.Path, allow)
	case http.StatusNotFound:
		return fmt.Errorf("%w: no endpoint %s %s", ErrNotFound, r.Method, r.URL.Path)
	default: // a redirect: pass it on as it is
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		return nil
	}
}

// headerRecorder keeps the status and headers of the mux's own answer and drops its body.
type headerRecorder struct {
	header http.Header
	status int
}

func (h *headerRecorder) Header() http.Header { return h.header }
func (h *headerRecorder) WriteHeader(code int) {
	if h.status == 0 {
		h.status = code
	}
}
func (h *headerRecorder) Write(b []byte) (int, error) {
	h.WriteHeader(http.StatusOK)
	return len(b), nil
}

// statusWriter remembers the status for the latency metric.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// wrap adds the body limit, panic recovery, error rendering and the latency metric.
func (s *Server) wrap(route string, h func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		w := &statusWriter{ResponseWriter: rw, status: http.StatusOK}
		r.Body = http.MaxBytesReader(w, r.Body, s.maxBody)
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("panic in API handler", "route", route, "panic", p)
				s.writeError(w, fmt.Errorf("internal error"))
			}
			if s.latency != nil {
				s.latency.WithLabelValues(route, strconv.Itoa(w.status/100)+"xx").Observe(time.Since(start).Seconds())
			}
		}()
		if err := h(w, r); err != nil {
			s.writeError(w, err)
		}
	})
}

// statusOf maps an error code to an HTTP status: the caller's mistakes are 4xx.
func statusOf(err error) int {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge
	}
	switch chain.Code(err) {
	case "internal":
		if errors.Is(err, ledger.ErrNotFound) {
			return http.StatusNotFound
		}
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return http.StatusGatewayTimeout
		}
		return http.StatusInternalServerError
	case ErrNotFound.Code:
		return http.StatusNotFound
	case ErrUnauthorized.Code:
		return http.StatusUnauthorized
	case ErrTooLarge.Code:
		return http.StatusRequestEntityTooLarge
	case ErrMethodNotAllowed.Code:
		return http.StatusMethodNotAllowed
	case ErrRateLimited.Code:
		return http.StatusTooManyRequests
	case "mempool_full", "no_operator_key": // the node cannot serve it now; it may later
		return http.StatusServiceUnavailable
	case "too_many_queued":
		return http.StatusTooManyRequests
	case "duplicate_tx", "already_committed", "nonce_taken", "duplicate_order", "order_conflict", "order_pending", "order_dropped":
		return http.StatusConflict
	default:
		return http.StatusBadRequest
	}
}

func (s *Server) writeError(w http.ResponseWriter, err error) {
	status := statusOf(err)
	code, msg := chain.Code(err), publicMessage(err)
	switch status {
	case http.StatusRequestEntityTooLarge:
		code = ErrTooLarge.Code
	case http.StatusNotFound:
		code = ErrNotFound.Code
	case http.StatusGatewayTimeout:
		code, msg = "timeout", "timed out"
	case http.StatusInternalServerError:
		s.log.Error("API request failed", "err", err)
		msg = "internal error" // details stay in the node's log
	}
	writeJSON(w, status, api.ErrorBody{Error: api.ErrorDetail{Code: code, Message: msg}})
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	return enc.Encode(v)
}

// decodeBody decodes a JSON request body strictly: unknown fields and trailing data are
// bad requests; a key written twice, a key matching a field only case-insensitively, and
// an integer string with leading zeros or a sign are malformed (see internal/jsonstrict).
func decodeBody(r *http.Request, v any) error {
	data, err := readBody(r)
	if err != nil {
		return err
	}
	var decode func() error
	if tx, ok := v.(*chain.Tx); ok {
		// A transaction decodes itself strictly (chain.Tx.UnmarshalJSON, with this package's
		// rules and no trailing data): checking the body around it first would walk it twice.
		decode = func() error {
			if !json.Valid(data) { // not one JSON value (or trailing data): as for other bodies
				return fmt.Errorf("%w: body is not one JSON value", ErrBadRequest)
			}
			return tx.UnmarshalJSON(data)
		}
	} else {
		decode = func() error { return jsonstrict.Decode(data, v) }
	}
	if err := decode(); err != nil {
		if code := chain.Code(err); code != "internal" {
			return err
		}
		if errors.Is(err, jsonstrict.ErrNotStrict) {
			return fmt.Errorf("%w: body: %v", chain.ErrMalformed, err)
		}
		return fmt.Errorf("%w: body: %v", ErrBadRequest, err)
	}
	return nil
}

// readBody reads a request's body, whose size the server bounds.
func readBody(r *http.Request) ([]byte, error) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: body: %v", ErrBadRequest, err)
	}
	return data, nil
}

// parseAddress accepts 0x-prefixed hex in any case.
func parseAddress(s string) (chain.Address, error) {
	if len(s) != 42 || !strings.HasPrefix(s, "0x") && !strings.HasPrefix(s, "0X") {
		return chain.Address{}, fmt.Errorf("%w: %q is not a 0x-prefixed 20-byte hex address", ErrBadRequest, s)
	}
	var a chain.Address
	if err := a.UnmarshalText([]byte(s)); err != nil {
		return chain.Address{}, fmt.Errorf("%w: %q is not a 0x-prefixed 20-byte hex address", ErrBadRequest, s)
	}
	return a, nil
}

func parseHash(s string) (chain.Hash, error) {
	var h chain.Hash
	if len(s) != 66 || h.UnmarshalText([]byte(s)) != nil {
		return h, fmt.Errorf("%w: %q is not a 0x-prefixed 32-byte hex hash", ErrBadRequest, s)
	}
	return h, nil
}

// parseWait reads ?wait=DURATION (capped at MaxWait); 0 if absent.
func parseWait(r *http.Request) (time.Duration, error) {
	v := r.URL.Query().Get("wait")
	if v == "" {
		return 0, nil
	}
	if v == "true" || v == "1" {
		return MaxWait, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%w: wait=%q is not a duration like 10s", ErrBadRequest, v)
	}
	return min(d, MaxWait), nil
}

// authorized checks the bearer token against each token the node accepts, in constant time
// and without stopping at a match, so the time taken says nothing of which one matched.
func (s *Server) authorized(r *http.Request) bool {
	const prefix = "Bearer "
	h := r.Header.Get("Authorization")
	if !strings.HasPrefix(h, prefix) {
		return false
	}
	got := []byte(strings.TrimPrefix(h, prefix))
	ok := 0
	for _, want := range s.b.MerchantTokens() {
		if want != "" {
			ok |= subtle.ConstantTimeCompare(got, []byte(want))
		}
	}
	return ok == 1
}

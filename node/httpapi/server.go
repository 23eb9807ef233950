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
	MerchantToken() string
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
)

// Server answers the HTTP API.
type Server struct {
	b       Backend
	l       Ledger
	log     *slog.Logger
	latency *prometheus.HistogramVec
	reg     *prometheus.Registry
	maxBody int64
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
	handle("POST /v1/txs", s.submit)
	handle("GET /v1/txs/{hash}", s.tx)
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
	handle("GET /v1/evidence", s.evidence)
	handle("POST /v1/merchant/earn", s.merchant(s.merchantEarn))
	handle("POST /v1/merchant/reverse", s.merchant(s.merchantReverse))
	if s.reg != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.reg, promhttp.HandlerOpts{Registry: s.reg}))
	}
	mux.Handle("/", s.wrap("other", func(w http.ResponseWriter, r *http.Request) error {
		return fmt.Errorf("%w: no endpoint %s %s", ErrNotFound, r.Method, r.URL.Path)
	}))
	return mux
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
	case "mempool_full":
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
// errors.
func decodeBody(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		if code := chain.Code(err); code != "internal" {
			return err
		}
		return fmt.Errorf("%w: body: %v", ErrBadRequest, err)
	}
	if _, err := dec.Token(); err != io.EOF { // More() misses a stray '}' or ']'
		return fmt.Errorf("%w: body: trailing data after the JSON value", ErrBadRequest)
	}
	return nil
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

// authorized checks the bearer token in constant time.
func (s *Server) authorized(r *http.Request) bool {
	const prefix = "Bearer "
	h := r.Header.Get("Authorization")
	if !strings.HasPrefix(h, prefix) {
		return false
	}
	want := s.b.MerchantToken()
	return want != "" && subtle.ConstantTimeCompare([]byte(strings.TrimPrefix(h, prefix)), []byte(want)) == 1
}

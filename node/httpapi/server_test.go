package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
	"github.com/loyal-ledger/loyal/wallet"
)

const testToken = "0123456789abcdef0123456789abcdef"

// fakeLedger knows one program, ACME; the methods the tests do not reach panic (nil embed).
type fakeLedger struct {
	Ledger
	signer *chain.Signer
}

func (fakeLedger) Head() ledger.Head { return ledger.Head{Height: 7} }
func (fakeLedger) Program(sym string) (*chain.Program, error) {
	if sym != "ACME" {
		return nil, fmt.Errorf("%w: %s", chain.ErrUnknownProgram, sym)
	}
	return &chain.Program{Symbol: "ACME", Name: "Acme"}, nil
}
func (l fakeLedger) Signer() *chain.Signer { return l.signer }

// fakeBackend records what reached it: a body the API refuses never does.
type fakeBackend struct {
	Backend
	mu       sync.Mutex
	txs      []*chain.Tx
	earns    []api.MerchantEarn
	reverses []api.MerchantReverse
	tokens   []string // nil: testToken alone
}

func (b *fakeBackend) Status() api.Status { return api.Status{ChainID: 7, Height: 7} }
func (b *fakeBackend) MerchantTokens() []string {
	if b.tokens == nil {
		return []string{testToken}
	}
	return b.tokens
}
func (b *fakeBackend) Evidence() []api.Evidence { return nil }
func (b *fakeBackend) Submit(tx *chain.Tx) (api.Submitted, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.txs = append(b.txs, tx)
	return api.Submitted{Hash: tx.Hash(), Status: api.TxPending}, nil
}
func (b *fakeBackend) MerchantEarn(req api.MerchantEarn) (api.Submitted, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if req.Program != "ACME" {
		return api.Submitted{}, fmt.Errorf("%w: %s", chain.ErrUnknownProgram, req.Program)
	}
	b.earns = append(b.earns, req)
	return api.Submitted{Status: api.TxPending}, nil
}
func (b *fakeBackend) MerchantReverse(req api.MerchantReverse) (api.Submitted, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reverses = append(b.reverses, req)
	return api.Submitted{Status: api.TxPending}, nil
}

func (b *fakeBackend) reached() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.txs) + len(b.earns) + len(b.reverses)
}

var testSigner = chain.NewSigner(7, chain.Hash{1})

func newTestServer(t *testing.T) (*Server, *fakeBackend) {
	t.Helper()
	b := &fakeBackend{}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return NewServer(b, fakeLedger{signer: testSigner}, log, nil, nil, 1<<20), b
}

// do serves one request in-process from remote (host:port) and returns the answer.
func do(h http.Handler, method, path, remote, token, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = remote
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func errorOf(t *testing.T, rec *httptest.ResponseRecorder) api.ErrorDetail {
	t.Helper()
	var eb api.ErrorBody
	if err := json.Unmarshal(rec.Body.Bytes(), &eb); err != nil || eb.Error.Code == "" {
		t.Fatalf("status %d: body %q is not an error body", rec.Code, rec.Body.String())
	}
	return eb.Error
}

const local = "127.0.0.1:40000"

// A path served for other methods answers 405 with Allow, in the API's JSON error form; a path
// served for none answers 404.
func TestHTTPWrongMethodIs405WithAllow(t *testing.T) {
	s, _ := newTestServer(t)
	h := s.Handler()
	for _, tc := range []struct{ method, path, allow string }{
		{"DELETE", "/v1/status", "GET, HEAD"},
		{"POST", "/v1/status", "GET, HEAD"},
		{"POST", "/v1/programs", "GET, HEAD"},
		{"PUT", "/v1/programs/ACME", "GET, HEAD"},
		{"GET", "/v1/txs", "POST"},
		{"GET", "/v1/merchant/earn", "POST"},
		{"DELETE", "/v1/txs/0x" + strings.Repeat("ab", 32), "GET, HEAD"},
	} {
		rec := do(h, tc.method, tc.path, local, "", "")
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s: %d Allow %q, want 405 Allow %q", tc.method, tc.path, rec.Code, rec.Header().Get("Allow"), tc.allow)
			continue
		}
		if e := errorOf(t, rec); e.Code != "method_not_allowed" || !strings.Contains(e.Message, tc.allow) {
			t.Errorf("%s %s: %+v", tc.method, tc.path, e)
		}
	}
	for _, path := range []string{"/v1/nothing", "/", "/v2/status"} {
		rec := do(h, "GET", path, local, "", "")
		if rec.Code != http.StatusNotFound || errorOf(t, rec).Code != "not_found" || rec.Header().Get("Allow") != "" {
			t.Errorf("GET %s: %d %q", path, rec.Code, rec.Body.String())
		}
	}
	if rec := do(h, "GET", "/v1/status", local, "", ""); rec.Code != http.StatusOK {
		t.Errorf("GET /v1/status: %d", rec.Code)
	}
	if rec := do(h, "HEAD", "/v1/status", local, "", ""); rec.Code != http.StatusOK {
		t.Errorf("HEAD /v1/status: %d", rec.Code)
	}
}

// A read of a program that does not exist is 404 not_found; a malformed symbol stays 400, and a
// transaction naming an unknown program stays 400 unknown_program.
func TestHTTPUnknownProgramIs404(t *testing.T) {
	s, _ := newTestServer(t)
	h := s.Handler()
	rec := do(h, "GET", "/v1/programs/NOPE", local, "", "")
	if e := errorOf(t, rec); rec.Code != http.StatusNotFound || e.Code != "not_found" || !strings.Contains(e.Message, "NOPE") {
		t.Errorf("GET /v1/programs/NOPE: %d %+v", rec.Code, e)
	}
	if rec := do(h, "GET", "/v1/programs/ACME", local, "", ""); rec.Code != http.StatusOK {
		t.Errorf("GET /v1/programs/ACME: %d %s", rec.Code, rec.Body)
	}
	rec = do(h, "GET", "/v1/programs/a-b", local, "", "")
	if e := errorOf(t, rec); rec.Code != http.StatusBadRequest || e.Code != "bad_symbol" {
		t.Errorf("GET /v1/programs/a-b: %d %+v", rec.Code, e)
	}
	rec = do(h, "POST", "/v1/merchant/earn", local, testToken, `{"program":"NOPE","credits":[]}`)
	if e := errorOf(t, rec); rec.Code != http.StatusBadRequest || e.Code != "unknown_program" {
		t.Errorf("earn in an unknown program: %d %+v", rec.Code, e)
	}
}

// Merchant bodies have one reading: duplicate keys, keys in another case and amounts with
// leading zeros or signs are malformed and never reach the node; addresses in any case, and
// the zero amount, decode as before.
func TestHTTPMerchantBodiesHaveOneReading(t *testing.T) {
	s, b := newTestServer(t)
	h := s.Handler()
	to := "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
	earn := func(credit string) string { return `{"program":"ACME","credits":[` + credit + `]}` }
	for _, tc := range []struct{ path, body string }{
		{"/v1/merchant/reverse", `{"program":"ACME","order_ref":"o-1","amount":"5","amount":"6"}`},
		{"/v1/merchant/reverse", `{"program":"ACME","program":"BETA","order_ref":"o-1","amount":"5"}`},
		{"/v1/merchant/reverse", `{"Program":"ACME","order_ref":"o-1","amount":"5"}`},
		{"/v1/merchant/reverse", `{"program":"ACME","ORDER_REF":"o-1","amount":"5"}`},
		{"/v1/merchant/reverse", `{"program":"ACME","order_ref":"o-1","amount":"007"}`},
		{"/v1/merchant/reverse", `{"program":"ACME","order_ref":"o-1","amount":"+5"}`},
		{"/v1/merchant/reverse", `{"program":"ACME","order_ref":"o-1","amount":"-5"}`},
		{"/v1/merchant/reverse", `{"program":"ACME","order_ref":"o-1","amount":"00"}`},
		{"/v1/merchant/earn", earn(`{"to":"` + to + `","amount":"010","order_ref":"o-1"}`)},
		{"/v1/merchant/earn", earn(`{"TO":"` + to + `","amount":"10","order_ref":"o-1"}`)},
		{"/v1/merchant/earn", earn(`{"to":"` + to + `","to":"` + to + `","amount":"10","order_ref":"o-1"}`)},
		{"/v1/merchant/earn", `{"program":"ACME","Credits":[]}`},
	} {
		rec := do(h, "POST", tc.path, local, testToken, tc.body)
		if e := errorOf(t, rec); rec.Code != http.StatusBadRequest || e.Code != "malformed" {
			t.Errorf("POST %s %s: %d %+v, want 400 malformed", tc.path, tc.body, rec.Code, e)
		}
	}
	if n := b.reached(); n != 0 {
		t.Fatalf("%d refused bodies reached the node", n)
	}
	for _, tc := range []struct{ path, body string }{
		{"/v1/merchant/earn", earn(`{"to":"` + to + `","amount":"10","order_ref":"o-1"}`)},
		{"/v1/merchant/earn", earn(`{"to":"` + strings.ToLower(to) + `","amount":"18446744073709551615","order_ref":"o-2"}`)},
		{"/v1/merchant/earn", earn(`{"to":"0X` + strings.ToUpper(to[2:]) + `","amount":"1","order_ref":"o-3"}`)},
		{"/v1/merchant/reverse", `{"program":"ACME","order_ref":"o-1","amount":"0"}`},
	} {
		if rec := do(h, "POST", tc.path, local, testToken, tc.body); rec.Code != http.StatusAccepted {
			t.Errorf("POST %s %s: %d %s", tc.path, tc.body, rec.Code, rec.Body)
		}
	}
	if len(b.earns) != 3 || b.earns[2].Credits[0].To.Hex() != to || b.earns[1].Credits[0].Amount != 1<<64-1 || len(b.reverses) != 1 {
		t.Fatalf("accepted bodies decoded as %+v %+v", b.earns, b.reverses)
	}
	// The other rules hold as before: unknown fields and trailing data are bad requests.
	for _, body := range []string{`{"program":"ACME","order_ref":"o","amount":"1","bogus":1}`, `{"program":"ACME","order_ref":"o","amount":"1"}{}`} {
		if rec := do(h, "POST", "/v1/merchant/reverse", local, testToken, body); rec.Code != http.StatusBadRequest || errorOf(t, rec).Code != "bad_request" {
			t.Errorf("%s: %d %s", body, rec.Code, rec.Body)
		}
	}
}

// A signed transaction's JSON has one reading too, at the envelope and in the body; what the
// wallet sends stays accepted.
func TestHTTPTxBodiesHaveOneReading(t *testing.T) {
	s, b := newTestServer(t)
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	key, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	tx := chain.NewTx(7, 3, 0, &chain.Transfer{Program: "ACME", To: chain.Address{9}, Amount: 5, Memo: "hi"})
	if err := testSigner.Sign(tx, key); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(tx)
	if err != nil {
		t.Fatal(err)
	}
	js := string(raw)
	for _, tc := range []struct{ old, new string }{
		{`"kind":`, `"KIND":`},
		{`"nonce":"3"`, `"nonce":"3","nonce":"3"`},
		{`"nonce":"3"`, `"nonce":"03"`},
		{`"amount":"5"`, `"Amount":"5"`},
		{`"amount":"5"`, `"amount":"5","amount":"5"`},
		{`"amount":"5"`, `"amount":"005"`},
		{`"amount":"5"`, `"amount":"+5"`},
		{`"amount":"5"`, `"amount":"-5"`},
	} {
		bad := strings.Replace(js, tc.old, tc.new, 1)
		if bad == js {
			t.Fatalf("%q not in %s", tc.old, js)
		}
		resp, err := http.Post(srv.URL+"/v1/txs", "application/json", strings.NewReader(bad))
		if err != nil {
			t.Fatal(err)
		}
		var eb api.ErrorBody
		json.NewDecoder(resp.Body).Decode(&eb)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || eb.Error.Code != "malformed" {
			t.Errorf("%s: %d %+v, want 400 malformed", bad, resp.StatusCode, eb.Error)
		}
	}
	if n := b.reached(); n != 0 {
		t.Fatalf("%d refused transactions reached the node", n)
	}
	c := &wallet.Client{BaseURL: srv.URL}
	sub, err := c.SubmitTx(context.Background(), tx)
	if err != nil || sub.Hash != tx.Hash() || len(b.txs) != 1 {
		t.Fatalf("the wallet's submission: %+v %v", sub, err)
	}
}

// Writes are limited per client address: past the burst, 429 rate_limited with Retry-After,
// and nothing reaches the node; other clients, reads, loopback clients and the merchant token
// are not limited; an IPv6 /64 counts as one client.
func TestHTTPWritesAreRateLimitedPerClient(t *testing.T) {
	s, b := newTestServer(t)
	h := s.LimitWrites(0.5, 2).Handler()
	body := `{"program":"ACME","order_ref":"o-1","amount":"1"}`
	post := func(remote, token string) *httptest.ResponseRecorder {
		return do(h, "POST", "/v1/txs", remote, token, `{}`)
	}
	// POST /v1/txs with an empty object is refused after the limiter: a 400 counts as a write.
	for i := 0; i < 2; i++ {
		if rec := post("203.0.113.7:1000", ""); rec.Code != http.StatusBadRequest {
			t.Fatalf("write %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	rec := post("203.0.113.7:1001", "")
	if e := errorOf(t, rec); rec.Code != http.StatusTooManyRequests || e.Code != "rate_limited" {
		t.Fatalf("third write: %d %+v", rec.Code, e)
	}
	if ra := rec.Header().Get("Retry-After"); ra != "2" {
		t.Errorf("Retry-After %q, want 2 (one token at 0.5/s)", ra)
	}
	// The merchant endpoints share the client's budget; without the token they are limited.
	rec = do(h, "POST", "/v1/merchant/reverse", "203.0.113.7:1002", "", body)
	if rec.Code != http.StatusTooManyRequests {
		t.Errorf("merchant write without the token over the limit: %d", rec.Code)
	}
	for i := 0; i < 5; i++ {
		if rec := do(h, "POST", "/v1/merchant/reverse", "203.0.113.7:1003", testToken, body); rec.Code != http.StatusAccepted {
			t.Fatalf("merchant write with the token: %d %s", rec.Code, rec.Body)
		}
		if rec := do(h, "GET", "/v1/status", "203.0.113.7:1004", "", ""); rec.Code != http.StatusOK {
			t.Fatalf("read: %d", rec.Code)
		}
		if rec := post("127.0.0.1:1005", ""); rec.Code != http.StatusBadRequest {
			t.Fatalf("loopback write: %d", rec.Code)
		}
		if rec := post("[::1]:1005", ""); rec.Code != http.StatusBadRequest {
			t.Fatalf("IPv6 loopback write: %d", rec.Code)
		}
	}
	if rec := post("198.51.100.1:1000", ""); rec.Code != http.StatusBadRequest {
		t.Errorf("another client: %d", rec.Code)
	}
	for i, remote := range []string{"[2001:db8:1:2::1]:1", "[2001:db8:1:2:ffff::9]:2", "[2001:db8:1:2::77]:3"} {
		want := http.StatusBadRequest
		if i == 2 {
			want = http.StatusTooManyRequests
		}
		if rec := post(remote, ""); rec.Code != want {
			t.Errorf("IPv6 write %d from %s: %d, want %d", i, remote, rec.Code, want)
		}
	}
	if rec := post("[2001:db8:1:3::1]:1", ""); rec.Code != http.StatusBadRequest {
		t.Errorf("another /64: %d", rec.Code)
	}
	if n := len(b.reverses); n != 5 {
		t.Errorf("%d reversals reached the node, want the 5 with the token", n)
	}
	// Without LimitWrites nothing is limited.
	s2, _ := newTestServer(t)
	h2 := s2.Handler()
	for i := 0; i < 10; i++ {
		if rec := do(h2, "POST", "/v1/txs", "203.0.113.7:1", "", `{}`); rec.Code != http.StatusBadRequest {
			t.Fatalf("unlimited server, write %d: %d", i, rec.Code)
		}
	}
}

// The limiter remembers at most max clients, and forgets an idle one (its bucket full again)
// without being full.
func TestHTTPWriteLimiterMemoryIsBounded(t *testing.T) {
	w := newWriteLimiter(1, 1) // refills in 1 s
	w.max = 3
	now := time.Unix(1000, 0)
	w.now = func() time.Time { return now }
	for i := 0; i < 10; i++ {
		if ok, _ := w.allow(fmt.Sprint("c", i)); !ok {
			t.Fatalf("client %d's first write refused", i)
		}
		if w.lru.Len() > 3 || len(w.clients) > 3 {
			t.Fatalf("after %d clients the limiter holds %d/%d", i+1, w.lru.Len(), len(w.clients))
		}
	}
	if ok, _ := w.allow("c9"); ok {
		t.Fatal("a remembered client got a second token within the second")
	}
	now = now.Add(2 * time.Second)
	w.allow("fresh")
	if w.lru.Len() != 1 {
		t.Fatalf("idle clients not forgotten: %d remembered", w.lru.Len())
	}
}

// Listen caps the connections served at once: a client past the cap waits until one closes.
func TestHTTPListenCapsConnections(t *testing.T) {
	l, err := Listen("127.0.0.1:0", 2, 0, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	s, _ := newTestServer(t)
	srv := &http.Server{Handler: s.Handler()}
	go srv.Serve(l)
	defer srv.Close()
	addr := l.Addr().String()
	var held []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	// Make sure both were accepted: a request on each is answered.
	for _, c := range held {
		fmt.Fprintf(c, "GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 12)
		if _, err := io.ReadFull(c, buf); err != nil || !bytes.HasPrefix(buf, []byte("HTTP/1.1 200")) {
			t.Fatalf("held connection: %q %v", buf, err)
		}
	}
	client := &http.Client{Timeout: 300 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := client.Get("http://" + addr + "/v1/status"); err == nil {
		resp.Body.Close()
		t.Fatal("a third connection was served past the cap of 2")
	}
	held[0].Close()
	client.Timeout = 5 * time.Second
	resp, err := client.Get("http://" + addr + "/v1/status")
	if err != nil {
		t.Fatalf("after a slot freed: %v", err)
	}
	resp.Body.Close()
	held[1].Close()
}

// Listen warns loudly when the API is reachable beyond loopback, and only then.
func TestHTTPListenWarnsBeyondLoopback(t *testing.T) {
	for _, tc := range []struct {
		addr string
		warn bool
	}{{"127.0.0.1:0", false}, {"localhost:0", false}, {"0.0.0.0:0", true}, {":0", true}} {
		var buf bytes.Buffer
		l, err := Listen(tc.addr, 0, 0, slog.New(slog.NewTextHandler(&buf, nil)))
		if err != nil {
			t.Fatalf("%s: %v", tc.addr, err)
		}
		l.Close()
		got := strings.Contains(buf.String(), "level=WARN") && strings.Contains(buf.String(), "BEYOND LOOPBACK")
		if got != tc.warn {
			t.Errorf("Listen(%s) logged %q; want a warning: %v", tc.addr, buf.String(), tc.warn)
		}
	}
}

// During a rotation the node accepts two tokens: either opens the merchant endpoints, and
// nothing else does — not a prefix, not an extension, not an empty bearer matching an empty
// entry.
func TestHTTPMerchantAcceptsEachTokenHeld(t *testing.T) {
	const newer = "fedcba9876543210fedcba9876543210"
	s, b := newTestServer(t)
	h := s.Handler()
	body := `{"program":"ACME","order_ref":"o-1","amount":"5"}`
	for _, tc := range []struct {
		name   string
		tokens []string
		token  string
		want   int
	}{
		{"old token, both held", []string{newer, testToken}, testToken, http.StatusAccepted},
		{"new token, both held", []string{newer, testToken}, newer, http.StatusAccepted},
		{"a prefix", []string{newer, testToken}, testToken[:31], http.StatusUnauthorized},
		{"an extension", []string{newer, testToken}, newer + "0", http.StatusUnauthorized},
		{"old token, retired", []string{newer}, testToken, http.StatusUnauthorized},
		{"new token, retired to", []string{newer}, newer, http.StatusAccepted},
		{"empty bearer, empty entry", []string{""}, " ", http.StatusUnauthorized},
		{"no token held", []string{}, testToken, http.StatusUnauthorized},
	} {
		b.tokens = tc.tokens
		if rec := do(h, "POST", "/v1/merchant/reverse", local, tc.token, body); rec.Code != tc.want {
			t.Errorf("%s: %d %s, want %d", tc.name, rec.Code, rec.Body, tc.want)
		}
	}
	if n := b.reached(); n != 3 {
		t.Errorf("%d requests reached the node, want the 3 with a token held", n)
	}
}

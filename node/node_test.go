package node_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"go.uber.org/goleak"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func testKey(t testing.TB, name string) *ecdsa.PrivateKey {
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte("loyal node test " + name)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func addr(k *ecdsa.PrivateKey) chain.Address { return crypto.PubkeyToAddress(k.PublicKey) }

// initHome makes a node home owned by owner, listening on an ephemeral port.
func initHome(t testing.TB, owner *ecdsa.PrivateKey, backend string) string {
	home := filepath.Join(t.TempDir(), "node")
	_, err := node.Init(home, node.InitOptions{
		Owner: addr(owner), GenesisTime: uint64(time.Now().Unix()) - 3600, Backend: backend, Listen: "127.0.0.1:0",
	})
	if err != nil {
		t.Fatal(err)
	}
	return home
}

// running is a node started in the test's process over real HTTP.
type running struct {
	home   string
	n      *node.Node
	url    string
	cancel context.CancelFunc
	done   chan error
}

func start(t testing.TB, home string) *running {
	n, err := node.Open(home, node.NewLogger(node.LogConfig{Level: "warn", Format: "text"}, io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{home: home, n: n, url: n.APIURL(), cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- n.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *running) stop(t testing.TB) {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	if err := <-r.done; err != nil {
		t.Errorf("run: %v", err)
	}
	if err := r.n.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

// call does one HTTP request and decodes the JSON answer into out (or the error body).
func call(t testing.TB, method, url, token string, body any, out any) (int, api.ErrorDetail) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode >= 300 {
		var eb api.ErrorBody
		if err := json.Unmarshal(raw, &eb); err != nil {
			t.Fatalf("%s %s: status %d, body %q is not an error body", method, url, resp.StatusCode, raw)
		}
		return resp.StatusCode, eb.Error
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v in %q", method, url, err, raw)
		}
	}
	return resp.StatusCode, api.ErrorDetail{}
}

// client signs and submits transactions, tracking nonces itself.
type client struct {
	t      testing.TB
	r      *running
	signer *chain.Signer
	chain  uint64
	nonces map[chain.Address]uint64
}

func newClient(t testing.TB, r *running) *client {
	var st api.Status
	call(t, "GET", r.url+"/v1/status", "", nil, &st)
	return &client{t: t, r: r, signer: chain.NewSigner(st.ChainID, st.GenesisHash), chain: st.ChainID, nonces: map[chain.Address]uint64{}}
}

func (c *client) sign(key *ecdsa.PrivateKey, p chain.Payload) *chain.Tx {
	a := addr(key)
	tx := chain.NewTx(c.chain, c.nonces[a], 0, p)
	if err := c.signer.Sign(tx, key); err != nil {
		c.t.Fatal(err)
	}
	c.nonces[a]++
	return tx
}

// commit submits a transaction and waits until it is committed.
func (c *client) commit(key *ecdsa.PrivateKey, p chain.Payload) api.Submitted {
	c.t.Helper()
	tx := c.sign(key, p)
	var sub api.Submitted
	status, e := call(c.t, "POST", c.r.url+"/v1/txs?wait=20s", "", tx, &sub)
	if status != http.StatusOK || sub.Status != api.TxCommitted || sub.Hash != tx.Hash() || sub.Height == 0 {
		c.t.Fatalf("submit %s: status %d %+v %+v", tx.Kind(), status, sub, e)
	}
	return sub
}

func balance(t testing.TB, r *running, a chain.Address, program string) api.ProgramBalance {
	var info api.AccountInfo
	call(t, "GET", r.url+"/v1/accounts/"+a.Hex(), "", nil, &info)
	for _, p := range info.Programs {
		if p.Program == program {
			return p
		}
	}
	return api.ProgramBalance{Program: program}
}

func TestNodeCommitsAndResumes(t *testing.T) {
	for _, backend := range []string{"pebble", "badger"} {
		t.Run(backend, func(t *testing.T) {
			owner, alice, bob := testKey(t, "owner"), testKey(t, "alice"), testKey(t, "bob")
			home := initHome(t, owner, backend)
			r := start(t, home)
			c := newClient(t, r)
			var st api.Status
			call(t, "GET", r.url+"/v1/status", "", nil, &st)
			c.commit(owner, &chain.RegisterProgram{Symbol: "ACME", Name: "Acme", Policy: chain.Policy{ExpiryDays: 365}, Operators: []chain.Address{st.Operator}})
			c.commit(owner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 100, OrderRef: "o-1"}}})
			sub := c.commit(alice, &chain.Transfer{Program: "ACME", To: addr(bob), Amount: 30, Memo: "gift"})
			if got := balance(t, r, addr(alice), "ACME"); got.Available != 70 || got.Total != 70 || got.Earned != 100 {
				t.Fatalf("alice = %+v, want 70 available of 100 earned", got)
			}
			var root chain.Hash
			var status api.Status
			call(t, "GET", r.url+"/v1/status", "", nil, &status)
			root = status.StateRoot
			r.stop(t)

			r2 := start(t, home)
			var after api.Status
			call(t, "GET", r2.url+"/v1/status", "", nil, &after)
			if after.Height != status.Height || after.StateRoot != root {
				t.Fatalf("after restart: height %d root %s, want %d %s", after.Height, after.StateRoot, status.Height, root)
			}
			var info api.TxInfo
			call(t, "GET", r2.url+"/v1/txs/"+sub.Hash.Hex(), "", nil, &info)
			if info.Status != api.TxCommitted || info.Height != sub.Height || info.Sender != addr(alice) || info.Kind != "transfer" {
				t.Fatalf("tx after restart = %+v", info)
			}
			if got := balance(t, r2, addr(bob), "ACME"); got.Available != 30 {
				t.Fatalf("bob = %+v, want 30", got)
			}
		})
	}
}

func TestNodeRejectsBadTransactions(t *testing.T) {
	owner, alice := testKey(t, "owner"), testKey(t, "alice")
	r := start(t, initHome(t, owner, "pebble"))
	c := newClient(t, r)
	c.commit(owner, &chain.RegisterProgram{Symbol: "ACME", Name: "Acme"})

	var before api.Status
	call(t, "GET", r.url+"/v1/status", "", nil, &before)
	overdraft := c.sign(alice, &chain.Transfer{Program: "ACME", To: addr(owner), Amount: 1})
	forged := c.sign(alice, &chain.Transfer{Program: "ACME", To: addr(owner), Amount: 1})
	forged.Sig[64] = 31 // v must be 27 or 28
	forgedJSON, _ := json.Marshal(forged)
	highS := c.sign(alice, &chain.Transfer{Program: "ACME", To: addr(owner), Amount: 2})
	flipS(highS)
	highSJSON, _ := json.Marshal(highS)
	stale := chain.NewTx(c.chain, 0, 0, &chain.RegisterProgram{Symbol: "BETA", Name: "Beta"})
	if err := c.signer.Sign(stale, owner); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"insufficient points", overdraft, 400, "insufficient_points"},
		{"forged signature", forgedJSON, 400, "bad_signature"},
		{"high-S signature", highSJSON, 400, "bad_signature"},
		{"replayed nonce", stale, 400, "nonce_too_low"},
		{"not JSON", []byte("{"), 400, "bad_request"},
		{"unknown field", []byte(`{"chain_id":"1","nope":1}`), 400, "malformed"},
		{"oversized", []byte(`{"memo":"` + strings.Repeat("x", 3<<20) + `"}`), 413, "request_too_large"},
		{"trailing data", append(mustJSON(t, overdraft), '}'), 400, "bad_request"},
	} {
		status, e := call(t, "POST", r.url+"/v1/txs", "", tc.body, nil)
		if status != tc.status || e.Code != tc.code || e.Message == "" {
			t.Errorf("%s: status %d code %q (%s), want %d %q", tc.name, status, e.Code, e.Message, tc.status, tc.code)
		}
	}
	var after api.Status
	call(t, "GET", r.url+"/v1/status", "", nil, &after)
	if after.Height != before.Height || after.StateRoot != before.StateRoot || after.Mempool.Txs != 0 {
		t.Fatalf("bad transactions changed something: %+v -> %+v", before, after)
	}
	if status, e := call(t, "GET", r.url+"/v1/txs/"+overdraft.Hash().Hex(), "", nil, nil); status != 404 || e.Code != "not_found" {
		t.Fatalf("unknown tx: %d %+v", status, e)
	}
	if status, e := call(t, "GET", r.url+"/v1/accounts/0x1234", "", nil, nil); status != 400 || e.Code != "bad_request" {
		t.Fatalf("bad address: %d %+v", status, e)
	}
}

func TestMerchantEarnIsIdempotent(t *testing.T) {
	owner, alice := testKey(t, "owner"), testKey(t, "alice")
	home := initHome(t, owner, "pebble")
	token, err := os.ReadFile(filepath.Join(home, node.TokenFile))
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(string(token))
	r := start(t, home)
	c := newClient(t, r)
	var st api.Status
	call(t, "GET", r.url+"/v1/status", "", nil, &st)
	earn := api.MerchantEarn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 40, OrderRef: "order-1"}}}

	if status, e := call(t, "POST", r.url+"/v1/merchant/earn", tok, earn, nil); status != 400 || e.Code != "unknown_program" {
		t.Fatalf("earn before the program exists: %d %+v", status, e)
	}
	c.commit(owner, &chain.RegisterProgram{Symbol: "ACME", Name: "Acme", Operators: []chain.Address{st.Operator}})
	if status, e := call(t, "POST", r.url+"/v1/merchant/earn", "", earn, nil); status != 401 || e.Code != "unauthorized" {
		t.Fatalf("no token: %d %+v", status, e)
	}
	if status, e := call(t, "POST", r.url+"/v1/merchant/earn", tok+"x", earn, nil); status != 401 || e.Code != "unauthorized" {
		t.Fatalf("wrong token: %d %+v", status, e)
	}
	var first, retryPending, retryCommitted api.Submitted
	call(t, "POST", r.url+"/v1/merchant/earn", tok, earn, &first)
	call(t, "POST", r.url+"/v1/merchant/earn", tok, earn, &retryPending)
	if retryPending.Hash != first.Hash {
		t.Fatalf("retry while pending made tx %s, first was %s", retryPending.Hash, first.Hash)
	}
	var info api.TxInfo
	call(t, "GET", r.url+"/v1/txs/"+first.Hash.Hex()+"?wait=20s", "", nil, &info)
	if info.Status != api.TxCommitted {
		t.Fatalf("earn not committed: %+v", info)
	}
	call(t, "POST", r.url+"/v1/merchant/earn?wait=5s", tok, earn, &retryCommitted)
	if retryCommitted.Hash != first.Hash || retryCommitted.Status != api.TxCommitted || retryCommitted.Height != info.Height {
		t.Fatalf("retry after commit = %+v, want %s committed at %d", retryCommitted, first.Hash, info.Height)
	}
	changed := earn
	changed.Credits = []chain.Credit{{To: addr(alice), Amount: 41, OrderRef: "order-1"}}
	if status, e := call(t, "POST", r.url+"/v1/merchant/earn", tok, changed, nil); status != 409 || e.Code != "order_conflict" {
		t.Fatalf("same order, other amount: %d %+v", status, e)
	}
	if got := balance(t, r, addr(alice), "ACME"); got.Total != 40 || got.Earned != 40 {
		t.Fatalf("alice = %+v, want exactly one credit of 40", got)
	}

	// Refunds: the amount is the order's total reversed, so a retry reverses nothing more.
	rev := api.MerchantReverse{Program: "ACME", OrderRef: "order-1", Amount: 15}
	var r1, r2, r3 api.Submitted
	call(t, "POST", r.url+"/v1/merchant/reverse?wait=20s", tok, rev, &r1)
	call(t, "POST", r.url+"/v1/merchant/reverse?wait=20s", tok, rev, &r2)
	if r1.Status != api.TxCommitted || r2.Hash != r1.Hash || r2.Height != r1.Height {
		t.Fatalf("reverse retry: %+v then %+v", r1, r2)
	}
	rev.Amount = 25
	call(t, "POST", r.url+"/v1/merchant/reverse?wait=20s", tok, rev, &r3)
	if r3.Hash == r1.Hash || r3.Status != api.TxCommitted {
		t.Fatalf("second partial refund: %+v", r3)
	}
	if got := balance(t, r, addr(alice), "ACME"); got.Total != 15 || got.Earned != 15 {
		t.Fatalf("alice after refunds = %+v, want 15 left and earned", got)
	}
}

func TestOpenRefusesBadHomes(t *testing.T) {
	owner := testKey(t, "owner")
	for _, tc := range []struct {
		name  string
		spoil func(t *testing.T, home string)
		want  string
	}{
		{"missing config", func(t *testing.T, home string) { os.Remove(filepath.Join(home, node.ConfigFile)) }, "does not exist"},
		{"bad config", func(t *testing.T, home string) { appendFile(t, home, node.ConfigFile, "\nbogus_key = 1\n") }, "unknown keys"},
		{"bad backend", func(t *testing.T, home string) { replaceIn(t, home, node.ConfigFile, `"pebble"`, `"leveldb"`) }, "backend"},
		{"merchant reserve over 90%", func(t *testing.T, home string) {
			replaceIn(t, home, node.ConfigFile, "merchant_reserve_percent = 10", "merchant_reserve_percent = 95")
		}, "merchant_reserve_percent 95"},
		{"queued ttl under a second", func(t *testing.T, home string) {
			replaceIn(t, home, node.ConfigFile, `queued_ttl = "10m0s"`, `queued_ttl = "0s"`)
		}, "queued_ttl at least 1s"},
		{"corrupt genesis", func(t *testing.T, home string) { appendFile(t, home, node.GenesisFile, "}") }, "genesis"},
		{"missing key", func(t *testing.T, home string) { os.Remove(filepath.Join(home, node.ConsensusKeyFile)) }, "bad key file"},
		{"garbled key", func(t *testing.T, home string) {
			os.WriteFile(filepath.Join(home, node.ConsensusKeyFile), []byte("zz\n"), 0o600)
		}, "not a hex secp256k1 private key"},
		{"exposed key", func(t *testing.T, home string) { os.Chmod(filepath.Join(home, node.OperatorKeyFile), 0o644) }, "readable by others"},
		{"exposed next operator key", func(t *testing.T, home string) {
			if _, err := node.RotateOperatorKey(home); err != nil {
				t.Fatal(err)
			}
			os.Chmod(filepath.Join(home, node.OperatorNextKeyFile), 0o644)
		}, node.OperatorNextKeyFile + " is readable by others"},
		{"short next token", func(t *testing.T, home string) {
			os.WriteFile(filepath.Join(home, node.TokenNextFile), []byte("0123456789\n"), 0o600)
		}, node.TokenNextFile + ": token shorter than 32 characters"},
		{"other chain's data", func(t *testing.T, home string) {
			other := initHome(t, owner, "pebble")
			n, err := node.Open(other, node.NewLogger(node.LogConfig{Level: "error", Format: "text"}, io.Discard))
			if err != nil {
				t.Fatal(err)
			}
			n.Close()
			os.Rename(filepath.Join(other, "data"), filepath.Join(home, "data"))
		}, "another chain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := initHome(t, owner, "pebble")
			tc.spoil(t, home)
			n, err := node.Open(home, node.NewLogger(node.LogConfig{Level: "error", Format: "text"}, io.Discard))
			if err == nil {
				n.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not say %q", err, tc.want)
			}
		})
	}
	home := initHome(t, owner, "pebble")
	before, _ := os.ReadFile(filepath.Join(home, node.ConsensusKeyFile))
	_, err := node.Init(home, node.InitOptions{Owner: addr(owner), GenesisTime: 1})
	after, _ := os.ReadFile(filepath.Join(home, node.ConsensusKeyFile))
	if err == nil || !strings.Contains(err.Error(), "already exists") || !bytes.Equal(before, after) {
		t.Fatalf("init over an existing home: %v", err)
	}
}

func appendFile(t *testing.T, home, name, s string) {
	f, err := os.OpenFile(filepath.Join(home, name), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func replaceIn(t *testing.T, home, name, old, new string) {
	p := filepath.Join(home, name)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s has no %s", name, old)
	}
	if err := os.WriteFile(p, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// flipS replaces s by n - s (and flips v): the same signature in its high-S form, which
// Loyal refuses so that a transaction has exactly one valid encoding.
func flipS(tx *chain.Tx) {
	n := crypto.S256().Params().N
	s := new(big.Int).SetBytes(tx.Sig[32:64])
	s.Sub(n, s)
	s.FillBytes(tx.Sig[32:64])
	tx.Sig[64] ^= 1 // 27 <-> 28
}

// A transaction sent again after it committed (a client retrying after a lost answer) is
// answered with where it committed, and changes nothing.
func TestResubmittingACommittedTxAnswersWhereItIs(t *testing.T) {
	owner, alice := testKey(t, "owner"), testKey(t, "alice")
	r := start(t, initHome(t, owner, "pebble"))
	c := newClient(t, r)
	c.commit(owner, &chain.RegisterProgram{Symbol: "ACME", Name: "Acme"})
	tx := c.sign(owner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 9, OrderRef: "o-1"}}})
	var first api.Submitted
	if status, e := call(t, "POST", r.url+"/v1/txs?wait=20s", "", tx, &first); status != http.StatusOK {
		t.Fatalf("first submit: %d %+v", status, e)
	}
	var again api.Submitted
	if status, e := call(t, "POST", r.url+"/v1/txs", "", tx, &again); status != http.StatusOK || again != first {
		t.Fatalf("resubmitted: %d %+v %+v, want 200 %+v", status, again, e, first)
	}
	// After a restart the node no longer remembers it as recent: the ledger still knows.
	home := r.home
	r.stop(t)
	r = start(t, home)
	again = api.Submitted{}
	if status, e := call(t, "POST", r.url+"/v1/txs", "", tx, &again); status != http.StatusOK || again != first {
		t.Fatalf("resubmitted after a restart: %d %+v %+v, want 200 %+v", status, again, e, first)
	}
	if got := balance(t, r, addr(alice), "ACME"); got.Total != 9 {
		t.Fatalf("alice has %d, want 9", got.Total)
	}
}

package node_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node"
)

// post sends a raw JSON body and returns the status and, for an error, its code. Unlike
// call it never stops the test, so flood goroutines may use it.
func post(url, token string, body []byte) (int, string, error) {
	req, err := http.NewRequest("POST", url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", err
	}
	if resp.StatusCode < 300 {
		return resp.StatusCode, "", nil
	}
	var eb api.ErrorBody
	if err := json.Unmarshal(raw, &eb); err != nil {
		return resp.StatusCode, "", fmt.Errorf("status %d, body %q", resp.StatusCode, raw)
	}
	return resp.StatusCode, eb.Error.Code, nil
}

func merchantToken(t testing.TB, home string) string {
	raw, err := os.ReadFile(filepath.Join(home, node.TokenFile))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(raw))
}

// bigEarn is an earn of program close to the largest transaction the network takes (1 MiB):
// 5,000 credits with long order refs.
func bigEarn(program, tag string) *chain.Earn {
	credits := make([]chain.Credit, 5000)
	for i := range credits {
		credits[i] = chain.Credit{To: chain.Address{byte(i), byte(i >> 8), 1}, Amount: 1, OrderRef: fmt.Sprintf("%s-%05d-%s", tag, i, strings.Repeat("x", 100))}
	}
	return &chain.Earn{Program: program, Credits: credits}
}

// flood is a set of signed transactions sent by one goroutine per key, each answer's code
// counted.
type flood struct {
	bodies   [][][]byte // per key, in order
	answered atomic.Int64
	mu       sync.Mutex
	codes    map[string]int // "" for accepted
	errs     []error
}

func (f *flood) run(url string) *sync.WaitGroup {
	f.codes = map[string]int{}
	var wg sync.WaitGroup
	for _, bodies := range f.bodies {
		wg.Go(func() {
			for _, b := range bodies {
				_, code, err := post(url+"/v1/txs", "", b)
				f.mu.Lock()
				if err != nil {
					f.errs = append(f.errs, err)
				}
				f.codes[code]++
				f.mu.Unlock()
				f.answered.Add(1)
			}
		})
	}
	return &wg
}

// waitAnswered polls until the flood has had n answers.
func (f *flood) waitAnswered(t *testing.T, n int64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for f.answered.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("flood: %d answers, waited for %d", f.answered.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestFloodOfUnrunnableTxsLeavesRoom replays issue 12's flood: five fresh, unfunded keys send
// 200 earns for a program they do not operate, at nonces from 1 (never 0, so none could ever
// run): ~1 MiB ones that fill the pool's bytes, then small ones that take what room is left.
// Once they filled the pool, every transfer and merchant earn was refused (503
// mempool_full) until a restart. Now each is checked against the state like any other and
// refused at once, so during and after the flood a funded customer's transfers and merchant
// earns commit, and the pool stays small throughout.
//
// The pool is scaled down — 150 transactions and 16 MiB, from 50,000 and 64 MiB — so that
// 200 requests fill it quickly: the large ones its bytes, then the small ones, no larger than
// a transfer, its count, leaving no room for a transfer whichever limit they hit.
func TestFloodOfUnrunnableTxsLeavesRoom(t *testing.T) {
	owner, alice, bob := testKey(t, "owner"), testKey(t, "alice"), testKey(t, "bob")
	home := initHome(t, owner, "pebble")
	replaceIn(t, home, node.ConfigFile, "max_txs = 50000", "max_txs = 150")
	replaceIn(t, home, node.ConfigFile, "max_bytes = 67108864", "max_bytes = 16777216")
	tok := merchantToken(t, home)
	r := start(t, home)
	c := newClient(t, r)
	var st api.Status
	call(t, "GET", r.url+"/v1/status", "", nil, &st)
	c.commit(owner, &chain.RegisterProgram{Symbol: "ACME", Name: "Acme", Operators: []chain.Address{st.Operator}})
	c.commit(owner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 100, OrderRef: "fund-alice"}}})

	const keys, perKey, big = 5, 40, 5 // per key: nonces 1..5 large, 6..40 small
	const memo = "a memo makes a transfer larger than a small flood tx"
	transferSize := c.sign(alice, &chain.Transfer{Program: "ACME", To: addr(bob), Amount: 10, Memo: memo}).Size()
	c.nonces[addr(alice)]--
	f := &flood{}
	for k := range keys {
		key := testKey(t, fmt.Sprintf("flooder %d", k))
		large := bigEarn("ACME", fmt.Sprintf("flood%d", k))
		var bodies [][]byte
		for nonce := uint64(1); nonce <= perKey; nonce++ {
			p := large
			if nonce > big {
				p = &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(bob), Amount: 1, OrderRef: "f"}}}
			}
			tx := chain.NewTx(c.chain, nonce, 0, p)
			if err := c.signer.Sign(tx, key); err != nil {
				t.Fatal(err)
			}
			if (nonce <= big && tx.Size() < 512<<10) || (nonce > big && tx.Size() > transferSize) {
				t.Fatalf("flood tx %d of %d bytes", nonce, tx.Size())
			}
			bodies = append(bodies, mustJSON(t, tx))
		}
		f.bodies = append(f.bodies, bodies)
	}

	// The pool's size, sampled while the flood runs.
	var maxBytes atomic.Int64
	stopSampling := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Go(func() {
		for {
			select {
			case <-stopSampling:
				return
			case <-time.After(2 * time.Millisecond):
			}
			if b := int64(r.n.Status().Mempool.Bytes); b > maxBytes.Load() {
				maxBytes.Store(b)
			}
		}
	})

	wg := f.run(r.url)
	f.waitAnswered(t, keys*perKey/2) // the old pool was full by then
	c.commit(alice, &chain.Transfer{Program: "ACME", To: addr(bob), Amount: 10, Memo: memo})
	var earned api.Submitted
	earn := api.MerchantEarn{Program: "ACME", Credits: []chain.Credit{{To: addr(bob), Amount: 7, OrderRef: "during-flood"}}}
	if status, e := call(t, "POST", r.url+"/v1/merchant/earn?wait=20s", tok, earn, &earned); status != http.StatusOK || earned.Status != api.TxCommitted {
		t.Fatalf("merchant earn during the flood: %d %+v %+v", status, earned, e)
	}
	wg.Wait()
	c.commit(alice, &chain.Transfer{Program: "ACME", To: addr(bob), Amount: 5, Memo: memo})
	earn = api.MerchantEarn{Program: "ACME", Credits: []chain.Credit{{To: addr(bob), Amount: 1, OrderRef: "after-flood"}}}
	if status, e := call(t, "POST", r.url+"/v1/merchant/earn?wait=20s", tok, earn, &earned); status != http.StatusOK || earned.Status != api.TxCommitted {
		t.Fatalf("merchant earn after the flood: %d %+v %+v", status, earned, e)
	}
	close(stopSampling)
	sampler.Wait()

	if len(f.errs) > 0 {
		t.Fatalf("flood requests failed: %v", f.errs)
	}
	if want := map[string]int{"not_operator": keys * perKey}; fmt.Sprint(f.codes) != fmt.Sprint(want) {
		t.Errorf("flood answers = %v, want %v", f.codes, want)
	}
	if m := maxBytes.Load(); m > 64<<10 {
		t.Errorf("the pool held up to %d bytes during the flood, want none of the flood's", m)
	}
	if got := balance(t, r, addr(bob), "ACME"); got.Total != 23 {
		t.Fatalf("bob has %d, want 10+7+5+1", got.Total)
	}
}

// TestQueuedTxsAreBounded: transactions that pass every check but cannot run yet (a nonce
// before theirs is missing) are held up to max_queued_per_sender; more are refused with 429
// too_many_queued. Once the missing nonce arrives they all run.
func TestQueuedTxsAreBounded(t *testing.T) {
	owner, alice, bob := testKey(t, "owner"), testKey(t, "alice"), testKey(t, "bob")
	r := start(t, initHome(t, owner, "pebble"))
	c := newClient(t, r)
	c.commit(owner, &chain.RegisterProgram{Symbol: "ACME", Name: "Acme"})
	c.commit(owner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 100, OrderRef: "fund"}}})

	gap := c.sign(alice, &chain.Transfer{Program: "ACME", To: addr(bob), Amount: 1}) // sent last
	const perSender = 16                                                             // the default
	for i := range perSender + 2 {
		tx := c.sign(alice, &chain.Transfer{Program: "ACME", To: addr(bob), Amount: 1})
		status, e := call(t, "POST", r.url+"/v1/txs", "", tx, nil)
		want, code := http.StatusAccepted, ""
		if i >= perSender {
			want, code = http.StatusTooManyRequests, "too_many_queued"
		}
		if status != want || e.Code != code {
			t.Fatalf("queued transfer %d: %d %+v, want %d %q", i, status, e, want, code)
		}
	}
	if st := r.n.Status(); st.Mempool.Txs != perSender {
		t.Fatalf("the pool holds %d txs, want %d", st.Mempool.Txs, perSender)
	}
	var sub api.Submitted
	if status, e := call(t, "POST", r.url+"/v1/txs?wait=20s", "", gap, &sub); status != http.StatusOK {
		t.Fatalf("the missing nonce: %d %+v", status, e)
	}
	deadline := time.Now().Add(20 * time.Second)
	for balance(t, r, addr(bob), "ACME").Total != perSender+1 {
		if time.Now().After(deadline) {
			t.Fatalf("bob has %d, want %d", balance(t, r, addr(bob), "ACME").Total, perSender+1)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

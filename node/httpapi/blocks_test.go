package httpapi

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
	"github.com/loyal-ledger/loyal/chain/store/pebble"
	"github.com/loyal-ledger/loyal/wallet"
)

// testChain is a real ledger on a pebble store with four validators, served over real HTTP.
// Each block's own certificate (the one the ledger keeps as seen) has all four precommits;
// the next block carries another, equally valid one, of validators 1 to 3, so that which of
// the two the API serves shows.
type testChain struct {
	t       *testing.T
	g       *chain.Genesis
	vals    []*ecdsa.PrivateKey
	owner   *ecdsa.PrivateKey
	l       *ledger.Ledger
	url     string
	last    *chain.Commit // the certificate the next block carries
	nonces  map[chain.Address]uint64
	credits int // credits made so far: each order ref is new
}

func newTestChain(t *testing.T, params chain.Params) *testChain {
	t.Helper()
	return newTestChainWith(t, params, nil)
}

// newTestChainWith is newTestChain with edit applied to the genesis before it is validated.
func newTestChainWith(t *testing.T, params chain.Params, edit func(g *chain.Genesis)) *testChain {
	t.Helper()
	key := func(name string) *ecdsa.PrivateKey {
		k, err := crypto.ToECDSA(crypto.Keccak256([]byte("loyal httpapi test " + name)))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	c := &testChain{t: t, owner: key("owner"), nonces: map[chain.Address]uint64{}}
	owner := crypto.PubkeyToAddress(c.owner.PublicKey)
	c.g = &chain.Genesis{
		ChainID: 7, Network: "httpapi-test", GenesisTime: 1_750_000_000,
		Partners: []chain.Partner{{Name: "Acme", Address: owner}}, Params: params,
		Programs: []chain.GenesisProgram{{Symbol: "ACME", Name: "Acme", Owner: owner}},
	}
	for i := 0; i < 4; i++ {
		k := key("validator " + strconv.Itoa(i))
		c.vals = append(c.vals, k)
		c.g.Validators = append(c.g.Validators, chain.Validator{
			Name: "v" + strconv.Itoa(i), Partner: owner, PubKey: crypto.CompressPubkey(&k.PublicKey), Address: crypto.PubkeyToAddress(k.PublicKey),
		})
	}
	if edit != nil {
		edit(c.g)
	}
	if err := c.g.Validate(); err != nil {
		t.Fatal(err)
	}
	db, err := pebble.Open(t.TempDir(), ledger.StoreOptions(params))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	if c.l, err = ledger.Open(db, c.g); err != nil {
		t.Fatal(err)
	}
	s := NewServer(&fakeBackend{}, c.l, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, nil, 1<<20)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	c.url = srv.URL
	return c
}

// certificate is the precommits of the validators listed (by index) for blk.
func (c *testChain) certificate(blk *chain.Block, validators ...int) *chain.Commit {
	cert := &chain.Commit{Height: blk.Header.Height, BlockHash: blk.Hash()}
	for _, i := range validators {
		sig, err := chain.SignVote(c.vals[i], chain.VoteDigest(c.g.ChainID, chain.Precommit, blk.Header.Height, 0, blk.Hash()))
		if err != nil {
			c.t.Fatal(err)
		}
		cert.Sigs = append(cert.Sigs, chain.CommitSig{Validator: c.g.Validators[i].Address, Sig: sig})
	}
	return cert
}

// sign signs p from key with its next nonce.
func (c *testChain) sign(key *ecdsa.PrivateKey, p chain.Payload) *chain.Tx {
	a := crypto.PubkeyToAddress(key.PublicKey)
	tx := chain.NewTx(c.g.ChainID, c.nonces[a], 0, p)
	if err := c.l.Signer().Sign(tx, key); err != nil {
		c.t.Fatal(err)
	}
	c.nonces[a]++
	return tx
}

// earn is an earn by the owner of amount to each of to.
func (c *testChain) earn(amount uint64, to ...chain.Address) *chain.Tx {
	e := &chain.Earn{Program: "ACME"}
	for _, a := range to {
		e.Credits = append(e.Credits, chain.Credit{To: a, Amount: amount, OrderRef: "o-" + strconv.Itoa(c.credits)})
		c.credits++
	}
	return c.sign(c.owner, e)
}

// produce commits the next block with txs, which must all apply.
func (c *testChain) produce(txs ...*chain.Tx) *chain.Block {
	c.t.Helper()
	senders, err := c.l.RecoverSenders(txs)
	if err != nil {
		c.t.Fatal(err)
	}
	head := c.l.Head()
	blk, rejected, err := c.l.BuildBlock(c.g.GenesisTime+head.Height+1, c.g.Validators[0].Address, txs, senders, c.last)
	if err != nil || len(rejected) > 0 || len(blk.Txs) != len(txs) {
		c.t.Fatalf("block %d: %d of %d transactions, rejected %v, %v", head.Height+1, len(blk.Txs), len(txs), rejected, err)
	}
	if err := c.l.ApplyBlockWithSenders(blk, senders, c.certificate(blk, 0, 1, 2, 3)); err != nil {
		c.t.Fatal(err)
	}
	c.last = c.certificate(blk, 1, 2, 3)
	return blk
}

// get is GET path: the status and the body.
func (c *testChain) get(path string) (int, []byte) {
	c.t.Helper()
	resp, err := http.Get(c.url + path)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp.StatusCode, body
}

// rangePage is an answer of GET /v1/blocks: its fields, the heights of its blocks, each
// block's JSON as served, and the answer's size.
type rangePage struct {
	Height  uint64            `json:"height,string"`
	Next    uint64            `json:"next,string"`
	Blocks  []json.RawMessage `json:"blocks"`
	heights []uint64
	size    int
}

// blocks is GET /v1/blocks?QUERY, which must succeed.
func (c *testChain) blocks(query string) rangePage {
	c.t.Helper()
	status, body := c.get("/v1/blocks?" + query)
	if status != http.StatusOK {
		c.t.Fatalf("GET /v1/blocks?%s: %d %.300s", query, status, body)
	}
	page := rangePage{size: len(body)}
	if err := json.Unmarshal(body, &page); err != nil {
		c.t.Fatalf("GET /v1/blocks?%s: %v", query, err)
	}
	for _, raw := range page.Blocks {
		var b struct { // only the height: a page's blocks can be megabytes of transactions
			Block struct {
				Header struct {
					Height uint64 `json:"height,string"`
				} `json:"header"`
			} `json:"block"`
		}
		if err := json.Unmarshal(raw, &b); err != nil {
			c.t.Fatalf("GET /v1/blocks?%s: %v", query, err)
		}
		page.heights = append(page.heights, b.Block.Header.Height)
	}
	return page
}

func span(from, to uint64) []uint64 {
	var out []uint64
	for h := from; h <= to; h++ {
		out = append(out, h)
	}
	return out
}

// A range holds exactly the heights asked for, to clipped to the head, each block as GET
// /v1/blocks/{height} serves it: with the certificate the next block carries, marked
// canonical, and at the head with the node's own, marked not canonical.
func TestHTTPBlockRange(t *testing.T) {
	c := newTestChain(t, chain.DefaultParams())
	var blks []*chain.Block
	for i := 0; i < 5; i++ {
		var txs []*chain.Tx
		for range i % 3 {
			txs = append(txs, c.earn(5, chain.Address{1}, chain.Address{2}))
		}
		blks = append(blks, c.produce(txs...))
	}
	for _, tc := range []struct {
		query    string
		from, to uint64
	}{
		{"from=1&to=5", 1, 5},
		{"from=2&to=3", 2, 3},
		{"from=3", 3, 5},                         // no to: up to the head
		{"from=4&to=99", 4, 5},                   // to clipped to the head
		{"from=1&to=18446744073709551615", 1, 5}, // however far
		{"from=5&to=5", 5, 5},                    // the head alone
		{"to=2&from=1&unknown=ignored", 1, 2},    // other parameters, as elsewhere
		{"from=002&to=0003", 2, 3},               // decimal, as GET /v1/blocks/{height}
	} {
		page := c.blocks(tc.query)
		if want := span(tc.from, tc.to); !slices.Equal(page.heights, want) || page.Next != 0 || page.Height != 5 {
			t.Errorf("%s: heights %v next %d height %d, want %v next 0 height 5", tc.query, page.heights, page.Next, page.Height, want)
			continue
		}
		for i, h := range page.heights {
			var b api.BlockInfo
			if err := json.Unmarshal(page.Blocks[i], &b); err != nil {
				t.Fatal(err)
			}
			if b.Hash != blks[h-1].Hash() {
				t.Errorf("%s: block %d: hash %s, want %s", tc.query, h, b.Hash, blks[h-1].Hash())
			}
			want, canonical := c.certificate(blks[h-1], 0, 1, 2, 3), false // the head's: the seen one
			if h < 5 {
				want, canonical = blks[h].LastCommit, true
			}
			if b.Canonical != canonical || b.Commit == nil || !bytes.Equal(b.Commit.Encode(), want.Encode()) {
				t.Errorf("%s: block %d: canonical %v, certificate of %d signatures; want %v and the certificate of %d",
					tc.query, h, b.Canonical, len(b.Commit.Sigs), canonical, len(want.Sigs))
			}
			status, single := c.get("/v1/blocks/" + strconv.FormatUint(h, 10))
			if status != http.StatusOK || !bytes.Equal(bytes.TrimSpace(single), page.Blocks[i]) {
				t.Errorf("%s: block %d is not served as GET /v1/blocks/%d serves it", tc.query, h, h)
			}
		}
	}
}

// A page holds at most MaxBlockRange blocks; next says where the following one starts.
func TestHTTPBlockRangeCountLimit(t *testing.T) {
	c := newTestChain(t, chain.DefaultParams())
	const n = MaxBlockRange + 5
	for i := 0; i < n; i++ {
		c.produce()
	}
	for _, tc := range []struct {
		query          string
		from, to, next uint64
	}{
		{"from=1", 1, MaxBlockRange, MaxBlockRange + 1},
		{"from=1&to=" + strconv.Itoa(n), 1, MaxBlockRange, MaxBlockRange + 1},
		{"from=3&to=" + strconv.Itoa(MaxBlockRange+2), 3, MaxBlockRange + 2, 0}, // exactly a page: nothing left
		{"from=3&to=" + strconv.Itoa(MaxBlockRange+3), 3, MaxBlockRange + 2, MaxBlockRange + 3},
		{"from=" + strconv.Itoa(MaxBlockRange+1), MaxBlockRange + 1, n, 0},
	} {
		page := c.blocks(tc.query)
		if got := page.heights; !slices.Equal(got, span(tc.from, tc.to)) || page.Next != tc.next {
			t.Errorf("%s: heights %d..%d (%d) next %d, want %d..%d next %d", tc.query, got[0], got[len(got)-1], len(got), page.Next, tc.from, tc.to, tc.next)
		}
	}
}

// A page stops before the block that would take its JSON past MaxBlockRangeBytes, but holds
// at least one block, however large.
func TestHTTPBlockRangeByteLimit(t *testing.T) {
	p := chain.DefaultParams()
	p.MaxBlockBytes, p.MaxMemoLen = chain.MaxBlockBytes, 1024
	c := newTestChain(t, p)
	alice := crypto.ToECDSAUnsafe(crypto.Keccak256([]byte("loyal httpapi test alice")))
	c.produce(c.earn(1_000_000, crypto.PubkeyToAddress(alice.PublicKey))) // 1
	// A transfer with a memo of 1 KiB is 1.4 KB of JSON: a block of 2,400 is about 3.3 MiB, of
	// 6,500 about 8.8 MiB (and 7.5 MB in the binary form, within the block limit).
	transfers := func(n int) []*chain.Tx {
		txs := make([]*chain.Tx, n)
		for i := range txs {
			txs[i] = c.sign(alice, &chain.Transfer{Program: "ACME", To: chain.Address{1}, Amount: 1, Memo: strings.Repeat("m", 1024)})
		}
		return txs
	}
	c.produce(transfers(2_400)...) // 2
	c.produce(transfers(2_400)...) // 3
	c.produce(transfers(2_400)...) // 4
	c.produce(transfers(6_500)...) // 5: more than a page alone
	c.produce()                    // 6

	// Pages as a client follows them: each holds what fits, and the first block that does not
	// fit starts the next page.
	want := []struct {
		from, to uint64
		over     bool // the page exceeds MaxBlockRangeBytes: one block larger than that
	}{
		{1, 3, false}, // block 4 does not fit
		{4, 4, false}, // nor block 5 after it
		{5, 5, true},  // block 5 alone is too large, and comes anyway
		{6, 6, false},
	}
	var prev rangePage
	for i, w := range want {
		query := "from=" + strconv.FormatUint(w.from, 10)
		page := c.blocks(query)
		next := uint64(0)
		if i+1 < len(want) {
			next = want[i+1].from
		}
		if !slices.Equal(page.heights, span(w.from, w.to)) || page.Next != next {
			t.Fatalf("%s: heights %v next %d, want %v next %d", query, page.heights, page.Next, span(w.from, w.to), next)
		}
		if over := page.size > MaxBlockRangeBytes; over != w.over {
			t.Errorf("%s: %d bytes, limit %d", query, page.size, MaxBlockRangeBytes)
		}
		// The page before was as full as the limit let it be: with this block, it would not fit.
		if i > 0 && prev.size+1+len(page.Blocks[0]) <= MaxBlockRangeBytes {
			t.Errorf("the page before %s stopped at %d bytes, short of block %d (%d bytes)", query, prev.size, w.from, len(page.Blocks[0]))
		}
		prev = page
	}
}

// Bad parameters are 400 bad_request; a from beyond the head is 404 not_found.
func TestHTTPBlockRangeBadParams(t *testing.T) {
	c := newTestChain(t, chain.DefaultParams())
	if status, body := c.get("/v1/blocks?from=1"); status != http.StatusNotFound || !strings.Contains(string(body), `"not_found"`) {
		t.Errorf("from=1 before any block: %d %s", status, body)
	}
	for range 5 {
		c.produce()
	}
	for _, tc := range []struct {
		query  string
		status int
		code   string
	}{
		{"", 400, "bad_request"},
		{"to=3", 400, "bad_request"},
		{"from=", 400, "bad_request"},
		{"from=abc", 400, "bad_request"},
		{"from=-1", 400, "bad_request"},
		{"from=+1", 400, "bad_request"},
		{"from=1.5", 400, "bad_request"},
		{"from=0x1", 400, "bad_request"},
		{"from=18446744073709551616", 400, "bad_request"},
		{"from=0", 400, "bad_request"},
		{"from=0&to=3", 400, "bad_request"},
		{"from=1&from=2", 400, "bad_request"},
		{"from=1&to=", 400, "bad_request"},
		{"from=1&to=x", 400, "bad_request"},
		{"from=1&to=2&to=3", 400, "bad_request"},
		{"from=3&to=2", 400, "bad_request"},
		{"from=9&to=7", 400, "bad_request"},
		{"from=6", 404, "not_found"},
		{"from=6&to=9", 404, "not_found"},
		{"from=18446744073709551615", 404, "not_found"},
	} {
		status, body := c.get("/v1/blocks?" + tc.query)
		var eb api.ErrorBody
		if err := json.Unmarshal(body, &eb); err != nil || status != tc.status || eb.Error.Code != tc.code || eb.Error.Message == "" {
			t.Errorf("?%s: %d %s, want %d %s", tc.query, status, body, tc.status, tc.code)
		}
	}
	req, err := http.NewRequest(http.MethodPost, c.url+"/v1/blocks?from=1", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /v1/blocks: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

// blocksPage encodes as api.Blocks does: the two have the same fields with the same tags, and
// a page written with every field set decodes strictly as api.Blocks and encodes back to the
// same bytes.
func TestBlocksPageIsAPIBlocks(t *testing.T) {
	fields := func(typ reflect.Type) []string {
		var out []string
		for f := range typ.Fields() {
			out = append(out, f.Name+" "+string(f.Tag))
		}
		return out
	}
	if got, want := fields(reflect.TypeFor[blocksPage]()), fields(reflect.TypeFor[api.Blocks]()); !slices.Equal(got, want) {
		t.Fatalf("blocksPage has fields %q, api.Blocks %q", got, want)
	}
	c := newTestChain(t, chain.DefaultParams())
	c.produce()
	c.produce()
	blk, err := c.l.Block(1)
	if err != nil {
		t.Fatal(err)
	}
	info, _, err := (&Server{l: c.l}).blockInfo(blk)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	written, err := json.Marshal(blocksPage{Height: 2, Next: 3, Blocks: []json.RawMessage{raw}})
	if err != nil {
		t.Fatal(err)
	}
	var page api.Blocks
	dec := json.NewDecoder(bytes.NewReader(written))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&page); err != nil {
		t.Fatal(err)
	}
	again, err := json.Marshal(page)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, written) {
		t.Fatalf("blocksPage wrote\n%s\napi.Blocks writes\n%s", written, again)
	}
}

// The wallet's Blocks reads one page and EachBlock follows the pages to the end, or until its
// function fails; the node's refusals come back as *wallet.APIError.
func TestWalletReadsBlockRanges(t *testing.T) {
	c := newTestChain(t, chain.DefaultParams())
	const n = MaxBlockRange + 5
	for range n {
		c.produce()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := &wallet.Client{BaseURL: c.url}
	page, err := client.Blocks(ctx, 2, 4)
	if err != nil || len(page.Blocks) != 3 || page.Blocks[0].Block.Header.Height != 2 || page.Next != 0 || page.Height != n {
		t.Fatalf("Blocks(2, 4): %+v %v", page, err)
	}
	if page, err = client.Blocks(ctx, 1, 0); err != nil || len(page.Blocks) != MaxBlockRange || page.Next != MaxBlockRange+1 {
		t.Fatalf("Blocks(1, 0): %d blocks, next %d, %v", len(page.Blocks), page.Next, err)
	}
	if page, err = client.Blocks(ctx, n, 0); err != nil || len(page.Blocks) != 1 || page.Blocks[0].Canonical || page.Next != 0 {
		t.Fatalf("Blocks(head, 0): %+v %v", page, err)
	}

	for _, r := range []struct{ from, to, last uint64 }{{1, 0, n}, {3, MaxBlockRange + 3, MaxBlockRange + 3}, {7, n + 50, n}} {
		var got []uint64
		err := client.EachBlock(ctx, r.from, r.to, func(b api.BlockInfo) error {
			got = append(got, b.Block.Header.Height)
			if b.Canonical != (b.Block.Header.Height < n) {
				return fmt.Errorf("block %d: canonical %v", b.Block.Header.Height, b.Canonical)
			}
			return nil
		})
		if err != nil || !slices.Equal(got, span(r.from, r.last)) {
			t.Errorf("EachBlock(%d, %d): %d blocks from %v, %v", r.from, r.to, len(got), got[:min(len(got), 1)], err)
		}
	}
	var got []uint64
	stop := errors.New("stop")
	err = client.EachBlock(ctx, 7, 9, func(b api.BlockInfo) error {
		if got = append(got, b.Block.Header.Height); len(got) == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || !slices.Equal(got, span(7, 8)) {
		t.Errorf("EachBlock(7, 9) stopped by its function: %v, %v", got, err)
	}

	for _, r := range []struct {
		from, to uint64
		status   int
		code     string
	}{{n + 1, 0, 404, "not_found"}, {0, 3, 400, "bad_request"}, {5, 4, 400, "bad_request"}} {
		var apiErr *wallet.APIError
		if _, err := client.Blocks(ctx, r.from, r.to); !errors.As(err, &apiErr) || apiErr.Status != r.status || apiErr.Code != r.code {
			t.Errorf("Blocks(%d, %d): %v, want %d %s", r.from, r.to, err, r.status, r.code)
		}
		err := client.EachBlock(ctx, r.from, r.to, func(api.BlockInfo) error { return nil })
		if !errors.As(err, &apiErr) || apiErr.Code != r.code {
			t.Errorf("EachBlock(%d, %d): %v, want %s", r.from, r.to, err, r.code)
		}
	}
}

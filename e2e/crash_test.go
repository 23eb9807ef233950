package e2e

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/wallet"
)

// The stream the node is killed in the middle of.
const (
	streamOutstanding = 16  // unconfirmed transfers each customer keeps in flight
	streamMaxPerUser  = 200 // transfers a customer sends at most
	earnWorkers       = 2   // shop back-end goroutines crediting orders over HTTP
	killAfterBlocks   = 4   // blocks the stream must have committed before the kill...
	killAfterTxs      = 60  // ...and transactions the node must have reported committed
	streamDeadline    = 30 * time.Second
	killJitter        = 1500 * time.Millisecond
)

// crashAndRestart kills the node with SIGKILL while customers and the shop back end submit a
// stream of transactions, restarts it, and checks that every transaction the node reported
// committed is still there at the same height, that every block seen before the kill has the
// same hash and state root, and that the chain goes on.
func (w *world) crashAndRestart(t *testing.T, aliceHistory []api.HistoryEntry) {
	ctx := context.Background()
	customers := []string{"alice", "bob", "carol"}
	ks, err := wallet.OpenKeystore(w.keystore, true)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]*ecdsa.PrivateKey{}
	for _, name := range customers {
		k, err := ks.Unlock(name, passphrase)
		if err != nil {
			t.Fatalf("unlock %s: %v", name, err)
		}
		t.Cleanup(func() { wallet.ZeroKey(k) })
		keys[name] = k
	}
	// Each customer sends at most what it holds now, so no transfer can bounce.
	limits := map[string]uint64{}
	for _, name := range customers {
		limits[name] = min(w.available(t, name, acme), streamMaxPerUser)
	}
	before, err := w.client.Status(ctx)
	if err != nil {
		w.fatalf(t, "status: %v", err)
	}

	rec := &recorder{committed: map[chain.Hash]uint64{}, blocks: map[uint64]blockID{}, earns: map[chain.Hash]string{}}
	streamCtx, stopStream := context.WithCancel(ctx)
	defer stopStream()
	var wg sync.WaitGroup
	client := &wallet.Client{BaseURL: w.node.url, HTTP: w.http}
	wg.Go(func() { rec.watchBlocks(streamCtx, client) })
	for i, from := range customers {
		to := w.addr[customers[(i+1)%len(customers)]]
		wg.Go(func() { rec.transferStream(streamCtx, client, from, keys[from], to, limits[from]) })
	}
	token := w.token(t)
	for i := range earnWorkers {
		wg.Go(func() {
			rec.earnStream(streamCtx, client, w.http, w.node.url, token, i, []chain.Address{w.addr["alice"], w.addr["bob"], w.addr["carol"]})
		})
	}
	// abort stops the stream before failing, so no goroutine outlives the test.
	abort := func(format string, args ...any) {
		t.Helper()
		stopStream()
		wg.Wait()
		w.fatalf(t, format, args...)
	}

	// Let the stream run until several of its blocks have committed, then pull the plug
	// while it is still going.
	deadline := time.Now().Add(streamDeadline)
	for {
		if errs := rec.errors(); len(errs) > 0 {
			abort("the stream failed before the kill: %v", errs)
		}
		st, err := client.Status(ctx)
		if err != nil {
			abort("status: %v", err)
		}
		if st.Height >= before.Height+killAfterBlocks && rec.numCommitted() >= killAfterTxs {
			break
		}
		if time.Now().After(deadline) {
			abort("after %v the stream has %d transactions committed up to height %d (started at %d)",
				streamDeadline, rec.numCommitted(), st.Height, before.Height)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Commits are what ended the wait above; a random delay of up to a block interval moves
	// the kill to any point of the producer's cycle: collecting, executing, writing, waiting.
	jitter := rand.N(killJitter)
	time.Sleep(jitter)
	rec.killed.Store(true)
	w.crashNode(t)
	stopStream()
	wg.Wait()
	if errs := rec.errors(); len(errs) > 0 {
		w.fatalf(t, "the stream failed before the kill: %v", errs)
	}
	committed, blocks, earns, submitted := rec.snapshot()
	var lastCommit, lastBlock uint64
	perHeight := map[uint64]int{}
	unseen := 0 // reported commits in blocks the kill kept the recorder from fetching
	for _, h := range committed {
		lastCommit = max(lastCommit, h)
		perHeight[h]++
		if _, ok := blocks[h]; !ok {
			unseen++
		}
	}
	for h := range blocks {
		lastBlock = max(lastBlock, h)
	}
	t.Logf("stream began after height %d; reported commits per height: %v", before.Height, perHeight)
	t.Logf("SIGKILL %v after the stream reached %d commits, at height ≥ %d: %d of %d streamed transactions reported committed, up to height %d (%d of them in blocks not fetched before the kill)",
		jitter.Round(time.Millisecond), killAfterTxs, lastBlock, len(committed), submitted, lastCommit, unseen)

	// Restart on the same home (the API comes up on a new port).
	w.startNode(t)
	var st api.Status
	w.okJSON(t, &st, "status")
	if st.Height < lastCommit || st.Height < lastBlock {
		w.fatalf(t, "after the restart the head is %d; before the kill the node reported commits up to %d and blocks up to %d",
			st.Height, lastCommit, lastBlock)
	}
	// Every block seen before the kill is unchanged: same hash, same state root.
	for _, h := range slices.Sorted(maps.Keys(blocks)) {
		b, err := w.client.Block(ctx, h)
		if err != nil {
			w.fatalf(t, "block %d after the restart: %v", h, err)
		}
		if got := (blockID{b.Hash, b.Block.Header.StateRoot}); got != blocks[h] {
			w.fatalf(t, "block %d after the restart: hash %s state root %s; before the kill hash %s state root %s",
				h, got.hash, got.stateRoot, blocks[h].hash, blocks[h].stateRoot)
		}
	}
	if b, ok := blocks[st.Height]; ok && b.stateRoot != st.StateRoot {
		w.fatalf(t, "head %d: state root %s, before the kill %s", st.Height, st.StateRoot, b.stateRoot)
	}
	// Every transaction reported committed is there, at the height reported.
	w.checkCommitted(t, committed)

	// The shop retries an order the node confirmed before the crash: the same transaction.
	for hash, body := range earns {
		s := w.submitted(t, w.post(t, token, "/v1/merchant/earn", body), http.StatusOK)
		if s.Hash != hash || s.Height != committed[hash] || s.Status != api.TxCommitted {
			w.fatalf(t, "order confirmed before the crash, retried after it: %+v, want %s at %d", s, hash, committed[hash])
		}
		break
	}

	// The books still balance: every account's history adds up to its balance, each
	// program's outstanding points are what its customers hold, and alice's history still
	// starts with the scenario's entries.
	held := map[string]uint64{}
	for _, name := range customers {
		info := w.account(t, name)
		sums := map[string]int64{}
		hist := w.history(t, name)
		for _, e := range hist {
			sums[e.Entry.Program] += int64(e.Entry.Credit) - int64(e.Entry.Debit)
		}
		for _, p := range info.Programs {
			if sums[p.Program] != int64(p.Total) {
				w.fatalf(t, "%s's %s history adds up to %d, the balance is %d", name, p.Program, sums[p.Program], p.Total)
			}
			held[p.Program] += p.Total
		}
		if name == "alice" && (len(hist) < len(aliceHistory) || !slices.EqualFunc(hist[:len(aliceHistory)], aliceHistory, entryEqual)) {
			w.same(t, "alice's history before the stream", hist[:min(len(hist), len(aliceHistory))], aliceHistory)
		}
	}
	for _, sym := range []string{acme, beta} {
		var p api.ProgramInfo
		w.okJSON(t, &p, "program", sym)
		if p.Outstanding != held[sym] {
			w.fatalf(t, "program %s: outstanding %d, customers hold %d", sym, p.Outstanding, held[sym])
		}
	}

	// The chain goes on: one more transaction commits above the old head.
	after := w.tx(t, "transfer", w.addr["alice"], "transfer", "--from", "alice", "--program", acme, "--to", "bob",
		"--amount", "1", "--memo", "after the crash", "--wait")
	if after.Height <= st.Height {
		w.fatalf(t, "the transaction after the restart committed at %d, not above the head %d", after.Height, st.Height)
	}

	w.stopNode(t)
}

// available is an account's available points of a program.
func (w *world) available(t *testing.T, name, program string) uint64 {
	t.Helper()
	for _, p := range w.account(t, name).Programs {
		if p.Program == program {
			return p.Available
		}
	}
	return 0
}

// checkCommitted looks every transaction up with `loyal tx HASH --json`, a few at a time.
func (w *world) checkCommitted(t *testing.T, committed map[chain.Hash]uint64) {
	t.Helper()
	hashes := make(chan chain.Hash)
	var (
		mu       sync.Mutex
		failures []string
		wg       sync.WaitGroup
	)
	for range 4 {
		wg.Go(func() {
			for h := range hashes {
				r := w.loyal("tx", h.Hex(), "--json")
				var info api.TxInfo
				err := decodeStrict([]byte(r.stdout), &info)
				if r.code != 0 || err != nil || info.Hash != h || info.Status != api.TxCommitted || info.Height != committed[h] {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("reported committed at height %d; now status %q height %d (%v)\n%s",
						committed[h], info.Status, info.Height, err, r))
					mu.Unlock()
				}
			}
		})
	}
	for h := range committed {
		hashes <- h
	}
	close(hashes)
	wg.Wait()
	if len(failures) > 0 {
		w.fatalf(t, "%d of %d transactions reported committed before the kill are not where they were; the first:\n%s",
			len(failures), len(committed), failures[0])
	}
}

func entryEqual(a, b api.HistoryEntry) bool { return a == b }

// blockID is what a block's identity and state are checked by.
type blockID struct {
	hash, stateRoot chain.Hash
}

// recorder keeps what the node reported while the stream ran. Safe for concurrent use.
type recorder struct {
	killed atomic.Bool // set just before the SIGKILL: errors from then on are expected

	mu        sync.Mutex
	committed map[chain.Hash]uint64 // tx → the height the node reported it committed at
	blocks    map[uint64]blockID    // every block seen, by height
	earns     map[chain.Hash]string // the request body of each committed merchant earn
	submitted int
	errs      []error
}

func (r *recorder) fail(ctx context.Context, err error) {
	if r.killed.Load() || ctx.Err() != nil {
		return
	}
	r.mu.Lock()
	r.errs = append(r.errs, err)
	r.mu.Unlock()
}

func (r *recorder) errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.errs)
}

func (r *recorder) commit(h chain.Hash, height uint64, earnBody string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.committed[h] = height
	if earnBody != "" {
		r.earns[h] = earnBody
	}
}

func (r *recorder) numCommitted() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.committed)
}

func (r *recorder) snapshot() (committed map[chain.Hash]uint64, blocks map[uint64]blockID, earns map[chain.Hash]string, submitted int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.committed), maps.Clone(r.blocks), maps.Clone(r.earns), r.submitted
}

// watchBlocks records every block from height 1 as it appears, until ctx ends or the node
// stops answering.
func (r *recorder) watchBlocks(ctx context.Context, c *wallet.Client) {
	next := uint64(1)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := c.Status(ctx)
		if err != nil {
			r.fail(ctx, fmt.Errorf("watching blocks: %w", err))
			return
		}
		for ; next <= st.Height; next++ {
			if !r.seeBlock(ctx, c, next) {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// seeBlock records the block at height unless it already has; a transaction reported
// committed is recorded with its block, so that no height the node reported is missed.
func (r *recorder) seeBlock(ctx context.Context, c *wallet.Client, height uint64) bool {
	r.mu.Lock()
	_, seen := r.blocks[height]
	r.mu.Unlock()
	if seen {
		return true
	}
	b, err := c.Block(ctx, height)
	if err != nil {
		r.fail(ctx, fmt.Errorf("block %d: %w", height, err))
		return false
	}
	r.mu.Lock()
	r.blocks[height] = blockID{b.Hash, b.Block.Header.StateRoot}
	r.mu.Unlock()
	return true
}

// transferStream sends up to limit one-point ACME transfers from key to to, keeping
// streamOutstanding of them in flight, and records each one the node reports committed.
func (r *recorder) transferStream(ctx context.Context, c *wallet.Client, from string, key *ecdsa.PrivateKey, to chain.Address, limit uint64) {
	inFlight := make(chan struct{}, streamOutstanding)
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := range limit {
		select {
		case inFlight <- struct{}{}:
		case <-ctx.Done():
			return
		}
		p := &chain.Transfer{Program: acme, To: to, Amount: 1, Memo: fmt.Sprintf("stream %s %d", from, i)}
		sub, err := wallet.Send(ctx, c, key, p, 0)
		if err != nil {
			r.fail(ctx, fmt.Errorf("%s's transfer %d: %w", from, i, err))
			return
		}
		r.mu.Lock()
		r.submitted++
		r.mu.Unlock()
		wg.Go(func() {
			defer func() { <-inFlight }()
			info, err := wallet.Wait(ctx, c, sub.Hash)
			if err != nil {
				r.fail(ctx, fmt.Errorf("%s's transfer %d (%s): %w", from, i, sub.Hash, err))
				return
			}
			r.commit(sub.Hash, info.Height, "")
			r.seeBlock(ctx, c, info.Height)
		})
	}
}

// earnStream credits orders over the merchant endpoint with ?wait, one after another, as a
// shop back end would, and records each one the node answers committed.
func (r *recorder) earnStream(ctx context.Context, c *wallet.Client, hc *http.Client, base, token string, worker int, to []chain.Address) {
	for n := 0; ctx.Err() == nil; n++ {
		body := fmt.Sprintf(`{"program":"ACME","credits":[{"to":"%s","amount":"5","order_ref":"stream-%d-%d"}]}`, to[n%len(to)].Hex(), worker, n)
		a, err := postMerchant(ctx, hc, base, token, "/v1/merchant/earn?wait=20s", body)
		if err != nil {
			r.fail(ctx, err)
			return
		}
		var s api.Submitted
		if err := decodeStrict(a.body, &s); err != nil || a.status != http.StatusOK || s.Status != api.TxCommitted {
			r.fail(ctx, fmt.Errorf("want 200 committed: %v\n%s", err, a))
			return
		}
		r.mu.Lock()
		r.submitted++
		r.mu.Unlock()
		r.commit(s.Hash, s.Height, body)
		r.seeBlock(ctx, c, s.Height)
	}
}

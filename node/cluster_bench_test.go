package node_test

import (
	"crypto/ecdsa"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node/api"
)

// BenchmarkClusterThroughput runs 4 validators in this process (real libp2p on loopback, real
// pebble) under a sustained load of transfers submitted over HTTP to all of them, and reports
// committed transactions per second beside the signature ceiling measured in the same run:
// cores × single-core recoveries per second ÷ 4 (every validator recovers every signature
// once). Target: at least 0.2 of it.
func BenchmarkClusterThroughput(b *testing.B) {
	const senders, perRound = 2000, 2000
	rs, owner := clusterB(b, 4)
	c := newClient(b, rs[0])
	keys := make([]*ecdsa.PrivateKey, senders)
	for i := range keys {
		keys[i] = testKey(b, "load "+strconv.Itoa(i))
	}
	for start := 0; start < senders; start += 1000 {
		var credits []chain.Credit
		for i := start; i < min(start+1000, senders); i++ {
			credits = append(credits, chain.Credit{To: addr(keys[i]), Amount: 1 << 30, OrderRef: "fund-" + strconv.Itoa(i)})
		}
		c.commit(owner, &chain.Earn{Program: "ACME", Credits: credits})
	}
	recoverNs := measureRecoverNs(b, c, keys[0])

	committedBefore := committedTxs(b, rs[0])
	var st0 api.Status
	call(b, "GET", rs[0].url+"/v1/status", "", nil, &st0)
	heightBefore := st0.Height
	b.ResetTimer()
	var elapsed time.Duration
	total := 0
	for n := 0; n < b.N; n++ {
		b.StopTimer()
		txs := make([]*chain.Tx, perRound)
		for i := range txs {
			k := keys[i%senders]
			txs[i] = chain.NewTx(c.chain, uint64(n), 0, &chain.Transfer{Program: "ACME", To: addr(owner), Amount: 1})
			if err := c.signer.Sign(txs[i], k); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		begin := time.Now()
		var wg sync.WaitGroup
		const workers = 16
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < len(txs); i += workers {
					var sub api.Submitted
					if status, e := call(b, "POST", rs[i%len(rs)].url+"/v1/txs", "", txs[i], &sub); status != 202 {
						b.Errorf("submit: %d %+v", status, e)
						return
					}
				}
			}()
		}
		wg.Wait()
		// Done when node 0 has committed the whole round (its committed-transactions counter).
		want := committedBefore + float64(len(txs))
		deadline := time.Now().Add(60 * time.Second)
		for committedTxs(b, rs[0]) < want {
			if time.Now().After(deadline) {
				b.Fatalf("round %d not committed within 60 s", n)
			}
			time.Sleep(5 * time.Millisecond)
		}
		elapsed += time.Since(begin)
		total += len(txs)
		committedBefore = want
		b.StopTimer()
		// Every transaction of the round is in the ledger, on every node.
		for _, r := range rs {
			for _, tx := range []*chain.Tx{txs[0], txs[len(txs)/2], txs[len(txs)-1]} {
				var info api.TxInfo
				call(b, "GET", r.url+"/v1/txs/"+tx.Hash().Hex()+"?wait=30s", "", nil, &info)
				if info.Status != api.TxCommitted {
					b.Fatalf("not committed on %s: %+v", r.url, info)
				}
			}
		}
		b.StartTimer()
	}
	b.StopTimer()
	tps := float64(total) / elapsed.Seconds()
	ceiling := float64(runtime.NumCPU()) * 1e9 / recoverNs / 4
	var st api.Status
	call(b, "GET", rs[0].url+"/v1/status", "", nil, &st)
	b.Logf("%d rounds of %d transfers in %d blocks (height %d)", b.N, perRound, st.Height-heightBefore, st.Height)
	b.ReportMetric(tps, "tx/s")
	b.ReportMetric(ceiling, "ceiling-tx/s")
	b.ReportMetric(tps/ceiling, "of-ceiling")
}

// measureRecoverNs is the best of a few rounds of single-core signature recoveries.
func measureRecoverNs(b *testing.B, c *client, key *ecdsa.PrivateKey) float64 {
	tx := chain.NewTx(c.chain, 0, 0, &chain.Transfer{Program: "ACME", To: addr(key), Amount: 1})
	if err := c.signer.Sign(tx, key); err != nil {
		b.Fatal(err)
	}
	best := 0.0
	for r := 0; r < 5; r++ {
		start := time.Now()
		for i := 0; i < 400; i++ {
			if _, err := c.signer.Sender(tx); err != nil {
				b.Fatal(err)
			}
		}
		ns := float64(time.Since(start).Nanoseconds()) / 400
		if r == 0 || ns < best {
			best = ns
		}
	}
	return best
}

// committedTxs reads loyal_committed_txs_total from a node's /metrics.
func committedTxs(b *testing.B, r *running) float64 {
	resp, err := http.Get(r.url + "/metrics")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "loyal_committed_txs_total "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatal(err)
			}
			return f
		}
	}
	b.Fatal("no loyal_committed_txs_total in /metrics")
	return 0
}

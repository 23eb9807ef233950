package node_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/store/backends"
)

// BenchmarkIdleSubmitToCommit measures, on an idle node over real HTTP, the time from
// submitting a transfer to the answer that it is committed (POST /v1/txs?wait): admission,
// block building, execution, the synced commit and the wake-up of the waiting request. Each
// round first lets the node go idle (its clock catches up with its head block's time), outside
// the timing. As a baseline it also measures, in the same run and directory, one synced store
// commit — the floor any durable answer pays — and reports the ratio.
func BenchmarkIdleSubmitToCommit(b *testing.B) {
	owner, alice, bob := testKey(b, "owner"), testKey(b, "alice"), testKey(b, "bob")
	home := initHome(b, owner, "pebble")
	r := start(b, home)
	c := newClient(b, r)
	c.commit(owner, &chain.RegisterProgram{Symbol: "ACME", Name: "Acme"})
	c.commit(owner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 1 << 40, OrderRef: "fund"}}})

	syncNs := measureSyncCommit(b)
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		waitIdle(b, r)
		tx := c.sign(alice, &chain.Transfer{Program: "ACME", To: addr(bob), Amount: 1})
		b.StartTimer()
		begin := time.Now()
		var sub api.Submitted
		status, e := call(b, "POST", r.url+"/v1/txs?wait=10s", "", tx, &sub)
		total += time.Since(begin)
		if status != http.StatusOK || sub.Status != api.TxCommitted {
			b.Fatalf("submit: %d %+v %+v", status, sub, e)
		}
	}
	b.StopTimer()
	perOp := float64(total.Nanoseconds()) / float64(b.N)
	b.ReportMetric(perOp/1e6, "ms/commit")
	b.ReportMetric(syncNs/1e6, "ms/synced-write")
	b.ReportMetric(perOp/syncNs, "commit/synced-write")
}

// waitIdle polls until the node's clock has caught up with its head block's time, so the
// next block needs no waiting for the clock.
func waitIdle(b *testing.B, r *running) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		var st api.Status
		call(b, "GET", r.url+"/v1/status", "", nil, &st)
		if uint64(time.Now().Unix()) > st.HeadTime {
			return
		}
		if time.Now().After(deadline) {
			b.Fatal("node never idle")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// measureSyncCommit is the median of synced one-key commits to a pebble store in a temp dir.
func measureSyncCommit(b *testing.B) float64 {
	db, err := backends.Open("pebble", b.TempDir(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	const rounds = 21
	var ns []float64
	for i := 0; i < rounds; i++ {
		batch := db.NewBatch()
		batch.Set([]byte{'k', byte(i)}, []byte("value"))
		begin := time.Now()
		if err := batch.Commit(true); err != nil {
			b.Fatal(err)
		}
		ns = append(ns, float64(time.Since(begin).Nanoseconds()))
		batch.Close()
	}
	slices.Sort(ns)
	return ns[rounds/2]
}

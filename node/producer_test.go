package node_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node"
)

// With nothing pending the node makes a block only when the heartbeat is due; blocks hold at
// most blocks.max_txs transactions, so a burst spreads over several blocks.
func TestProducerHeartbeatAndBlockCap(t *testing.T) {
	owner, alice := testKey(t, "owner"), testKey(t, "alice")
	home := initHome(t, owner, "pebble")
	replaceIn(t, home, node.ConfigFile, `heartbeat = "1m0s"`, `heartbeat = "1s"`)
	replaceIn(t, home, node.ConfigFile, "max_txs = 0", "max_txs = 2")
	r := start(t, home)

	// Heartbeat: empty blocks appear on their own.
	waitHeight(t, r, 2, 20*time.Second)
	var b1 api.BlockInfo
	call(t, "GET", r.url+"/v1/blocks/1", "", nil, &b1)
	if len(b1.Block.Txs) != 0 {
		t.Fatalf("heartbeat block 1 has %d txs", len(b1.Block.Txs))
	}

	c := newClient(t, r)
	c.commit(owner, &chain.RegisterProgram{Symbol: "ACME", Name: "Acme"})
	var last api.Submitted
	var earns []*chain.Tx
	for i := 0; i < 7; i++ {
		earns = append(earns, c.sign(owner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 1, OrderRef: "o" + strconv.Itoa(i)}}}))
	}
	for _, tx := range earns {
		if status, e := call(t, "POST", r.url+"/v1/txs", "", tx, &last); status != http.StatusAccepted {
			t.Fatalf("submit: %d %+v", status, e)
		}
	}
	var info api.TxInfo
	call(t, "GET", r.url+"/v1/txs/"+last.Hash.Hex()+"?wait=20s", "", nil, &info)
	if info.Status != api.TxCommitted {
		t.Fatalf("last earn: %+v", info)
	}
	seen := 0
	for h := uint64(1); h <= info.Height; h++ {
		var b api.BlockInfo
		call(t, "GET", r.url+"/v1/blocks/"+strconv.FormatUint(h, 10), "", nil, &b)
		if len(b.Block.Txs) > 2 {
			t.Fatalf("block %d holds %d txs, cap is 2", h, len(b.Block.Txs))
		}
		seen += len(b.Block.Txs)
	}
	if seen != 8 || balance(t, r, addr(alice), "ACME").Total != 7 {
		t.Fatalf("%d txs in blocks, alice has %d", seen, balance(t, r, addr(alice), "ACME").Total)
	}
}

func waitHeight(t *testing.T, r *running, h uint64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var st api.Status
		call(t, "GET", r.url+"/v1/status", "", nil, &st)
		if st.Height >= h {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("height %d after %s, want %d", st.Height, within, h)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

package node_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
)

// TestResubmitWhileCommittingNeverErrs hammers resubmission: several clients send the same
// transactions again and again while blocks commit them. Each answer is pending (202) or
// committed (200) at the height the transaction committed at — never an error, whether the
// copy arrives while the transaction is pending, while its block is being applied, or after.
// (Before, a copy of a pending transaction was refused as duplicate_tx, and one racing its
// block could be refused as nonce_too_low.)
func TestResubmitWhileCommittingNeverErrs(t *testing.T) {
	owner, alice, bob := testKey(t, "owner"), testKey(t, "alice"), testKey(t, "bob")
	r := start(t, initHome(t, owner, "pebble"))
	c := newClient(t, r)
	c.commit(owner, &chain.RegisterProgram{Symbol: "ACME", Name: "Acme"})
	c.commit(owner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 1000, OrderRef: "fund"}}})

	const txs, clients, rounds = 40, 6, 4
	var (
		bodies [][]byte
		signed []*chain.Tx
		hashes []chain.Hash
	)
	for i := range txs {
		tx := c.sign(alice, &chain.Transfer{Program: "ACME", To: addr(bob), Amount: uint64(i + 1)})
		bodies, signed, hashes = append(bodies, mustJSON(t, tx)), append(signed, tx), append(hashes, tx.Hash())
	}
	type answer struct {
		tx     int
		status int
		sub    api.Submitted
		body   string
	}
	answers := make(chan answer, txs*clients*rounds)
	var wg sync.WaitGroup
	for k := range clients {
		wg.Go(func() {
			for range rounds {
				// In nonce order: a client sends a transaction once it was answered for the
				// one before, so each is admitted by whoever sends it first.
				for i := range txs {
					if k%2 == 1 {
						// Half the clients call the node directly: more copies race the
						// blocks than HTTP alone would send.
						sub, err := r.n.Submit(signed[i])
						a := answer{tx: i, status: http.StatusAccepted, sub: sub}
						if sub.Status == api.TxCommitted {
							a.status = http.StatusOK
						}
						if err != nil {
							a.status, a.body = 0, err.Error()
						}
						answers <- a
						continue
					}
					resp, err := http.Post(r.url+"/v1/txs", "application/json", bytesReader(bodies[i]))
					if err != nil {
						answers <- answer{tx: i, body: err.Error()}
						continue
					}
					raw, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					a := answer{tx: i, status: resp.StatusCode, body: string(raw)}
					if err := json.Unmarshal(raw, &a.sub); err != nil {
						a.body += " (" + err.Error() + ")"
					}
					answers <- a
				}
			}
		})
	}
	wg.Wait()
	close(answers)

	for i, h := range hashes { // all of them commit
		var info api.TxInfo
		call(t, "GET", r.url+"/v1/txs/"+h.Hex()+"?wait=20s", "", nil, &info)
		if info.Status != api.TxCommitted {
			t.Fatalf("tx %d not committed: %+v", i, info)
		}
	}
	n := 0
	for a := range answers {
		n++
		height, _, err := r.n.Ledger().TxLocation(hashes[a.tx])
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("202 %s pending 0", hashes[a.tx])
		if a.status == http.StatusOK {
			want = fmt.Sprintf("200 %s committed %d", hashes[a.tx], height)
		}
		if got := fmt.Sprintf("%d %s %s %d", a.status, a.sub.Hash, a.sub.Status, a.sub.Height); got != want {
			t.Errorf("tx %d answered %s (%s), want %s", a.tx, got, a.body, want)
		}
	}
	if n != txs*clients*rounds {
		t.Fatalf("%d answers, want %d", n, txs*clients*rounds)
	}
	if got := balance(t, r, addr(bob), "ACME"); got.Total != txs*(txs+1)/2 {
		t.Fatalf("bob has %d, want %d", got.Total, txs*(txs+1)/2)
	}
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

package node_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
)

// The read endpoints answer with proofs that verify against the headers they come with,
// history pages through every entry exactly once, and /metrics counts what happened.
func TestAPIReadsProofsAndMetrics(t *testing.T) {
	owner, alice, bob := testKey(t, "owner"), testKey(t, "alice"), testKey(t, "bob")
	r := start(t, initHome(t, owner, "pebble"))
	c := newClient(t, r)
	c.commit(owner, &chain.RegisterProgram{Symbol: "ACME", Name: "Acme", Policy: chain.Policy{
		ExpiryDays: 365, Tiers: []chain.Tier{{Name: "silver", Threshold: 100}},
	}})
	c.commit(owner, &chain.RegisterProgram{Symbol: "BETA", Name: "Beta"})
	c.commit(owner, &chain.Earn{Program: "ACME", Credits: []chain.Credit{{To: addr(alice), Amount: 150, OrderRef: "o-1"}}})
	var transfers []api.Submitted
	for i := 0; i < 7; i++ {
		transfers = append(transfers, c.commit(alice, &chain.Transfer{Program: "ACME", To: addr(bob), Amount: uint64(i + 1)}))
	}
	c.commit(owner, &chain.SetRate{From: "ACME", To: "BETA", Numerator: 1, Denominator: 1, DailyCap: 50})
	c.commit(alice, &chain.Exchange{From: "ACME", To: "BETA", Amount: 10, MinOut: 10})

	// Balance, tier, lots.
	var acc api.AccountInfo
	call(t, "GET", r.url+"/v1/accounts/"+strings.ToLower(addr(alice).Hex()), "", nil, &acc)
	if acc.Nonce != 8 || len(acc.Programs) != 2 {
		t.Fatalf("alice = %+v", acc)
	}
	if p := acc.Programs[0]; p.Program != "ACME" || p.Total != 150-28-10 || p.Earned != 150 || p.Tier != "silver" || len(p.Lots) != 1 || p.Lots[0].Expires == "" {
		t.Fatalf("alice's ACME = %+v", p)
	}
	if p := acc.Programs[1]; p.Program != "BETA" || p.Total != 10 || p.Available != 10 {
		t.Fatalf("alice's BETA = %+v", p)
	}

	// History pages: 1 earn + 7 transfers + 2 exchange entries, 3 per page, no repeats.
	var all []api.HistoryEntry
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("history does not end")
		}
		var h api.History
		call(t, "GET", r.url+"/v1/accounts/"+addr(alice).Hex()+"/history?limit=3&cursor="+cursor, "", nil, &h)
		all = append(all, h.Entries...)
		if h.Next == "" {
			break
		}
		cursor = h.Next
	}
	if len(all) != 10 || all[0].Kind != "earn" || all[0].Entry.Credit != 150 || all[0].Entry.Ref != "o-1" {
		t.Fatalf("history: %d entries, first %+v", len(all), all[0])
	}
	for i, tr := range transfers {
		e := all[1+i]
		if e.TxHash != tr.Hash || e.Kind != "transfer" || e.Entry.Debit != uint64(i+1) || e.Entry.Counterparty != addr(bob) {
			t.Fatalf("history entry %d = %+v, want transfer %s of %d", 1+i, e, tr.Hash, i+1)
		}
	}
	if status, e := call(t, "GET", r.url+"/v1/accounts/"+addr(alice).Hex()+"/history?limit=0", "", nil, nil); status != 400 || e.Code != "bad_request" {
		t.Fatalf("limit=0: %d %+v", status, e)
	}

	// Tx proof verifies against the header it comes with.
	var tp api.TxProof
	call(t, "GET", r.url+"/v1/proofs/tx/"+transfers[3].Hash.Hex(), "", nil, &tp)
	if tp.Tx.Hash() != transfers[3].Hash || tp.Header.Height != transfers[3].Height {
		t.Fatalf("tx proof for the wrong tx or block: %+v", tp.Header)
	}
	if err := tp.Proof.Verify(tp.Header); err != nil {
		t.Fatalf("tx proof does not verify: %v", err)
	}
	var blk api.BlockInfo
	call(t, "GET", r.url+"/v1/blocks/"+strconv.FormatUint(tp.Header.Height, 10), "", nil, &blk)
	if blk.Hash != tp.Header.Hash() || blk.Commit == nil || blk.Commit.BlockHash != blk.Hash {
		t.Fatalf("block %d: %+v", tp.Header.Height, blk)
	}

	// Account proofs: inclusion for alice, exclusion for a stranger; a tampered value fails.
	var ap api.AccountProof
	call(t, "GET", r.url+"/v1/proofs/account/"+addr(alice).Hex()+"?program=ACME", "", nil, &ap)
	if ap.Balance != 112 || ap.Proof.Value == nil {
		t.Fatalf("alice's proof: balance %d", ap.Balance)
	}
	if err := ap.Proof.Verify(ap.Header); err != nil {
		t.Fatalf("alice's proof does not verify: %v", err)
	}
	ap.Proof.Value[len(ap.Proof.Value)-1] ^= 1
	if err := ap.Proof.Verify(ap.Header); err == nil {
		t.Fatal("a tampered account proof verifies")
	}
	// Without a program the record is proven all the same; no balance is picked out.
	var whole api.AccountProof
	call(t, "GET", r.url+"/v1/proofs/account/"+addr(alice).Hex(), "", nil, &whole)
	if whole.Program != "" || whole.Balance != 0 || whole.Proof.Value == nil || whole.Proof.Verify(whole.Header) != nil {
		t.Fatalf("alice's proof without a program: %+v", whole)
	}
	if status, e := call(t, "GET", r.url+"/v1/proofs/account/"+addr(alice).Hex()+"?program=", "", nil, nil); status != 400 || e.Code != "bad_symbol" {
		t.Fatalf("program= (empty): %d %+v", status, e)
	}
	var none api.AccountProof
	call(t, "GET", r.url+"/v1/proofs/account/0x00000000000000000000000000000000000000aa?program=ACME", "", nil, &none)
	if none.Balance != 0 || none.Proof.Value != nil {
		t.Fatalf("stranger's proof: %+v", none)
	}
	if err := none.Proof.Verify(none.Header); err != nil {
		t.Fatalf("exclusion proof does not verify: %v", err)
	}

	// Programs, rates, settlement, EIP-712.
	var prog api.ProgramInfo
	call(t, "GET", r.url+"/v1/programs/ACME", "", nil, &prog)
	if prog.Outstanding != 140 || prog.Supply != 150 || prog.Stats.ExchangedOut != 10 {
		t.Fatalf("ACME = %+v", prog)
	}
	var progs api.Programs
	call(t, "GET", r.url+"/v1/programs", "", nil, &progs)
	if len(progs.Programs) != 2 || progs.Programs[0].Symbol != "ACME" || progs.Programs[1].Symbol != "BETA" {
		t.Fatalf("programs = %+v", progs)
	}
	var rates api.Rates
	call(t, "GET", r.url+"/v1/rates", "", nil, &rates)
	if len(rates.Routes) != 1 || !rates.Routes[0].Open || rates.Routes[0].Cap != 50 || rates.Routes[0].Used != 10 {
		t.Fatalf("rates = %+v", rates)
	}
	var set api.Settlement
	call(t, "GET", r.url+"/v1/settlement", "", nil, &set)
	if len(set.Positions) != 1 || set.Positions[0].Debtor != "ACME" || set.Positions[0].Creditor != "BETA" || set.Positions[0].OpenAmount != 10 {
		t.Fatalf("settlement = %+v", set)
	}
	var eip api.EIP712
	call(t, "GET", r.url+"/v1/eip712", "", nil, &eip)
	if eip.Domain != c.signer.Domain() || len(eip.Types["Transfer"]) == 0 {
		t.Fatalf("eip712 = %+v", eip.Domain)
	}

	// Metrics.
	resp, err := http.Get(r.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"loyal_height 12", "loyal_committed_txs_total 12", "loyal_mempool_txs 0", "loyal_mempool_bytes 0", `loyal_api_request_duration_seconds_bucket{code="2xx",route="GET /v1/status"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
)

// The scenario's programs, orders and amounts.
const (
	acme, beta = "ACME", "BETA"

	aliceOrder, aliceEarned = "acme-order-1001", 600 // credited by the shop back end over HTTP
	carolOrder, carolEarned = "acme-order-2001", 300 // later refunded: 100, then 150 in total
	betaOrder, betaEarned   = "beta-order-1", 250    // credited with `loyal earn`

	gift, giftMemo        = 150, "birthday gift" // alice → bob
	redeemed, rewardRef   = 100, "reward-coffee-7"
	rateNum, rateDen      = 3, 2
	exchanged, exchangeTo = 101, 151 // floor(101·3/2)
	settledAmount         = 100
	refund1, refund2      = 100, 150 // the order's cumulative reversed total
)

// TestCoalition drives the real binaries through a coalition's life: setup, the scenario of
// every transaction kind with exact checks of what the CLI reports, then a SIGKILL of the
// node in the middle of a stream of transactions and a restart.
func TestCoalition(t *testing.T) {
	needBinaries(t)
	start := time.Now()
	w := newWorld(t)
	if !t.Run("setup", w.setup) {
		return
	}
	var aliceHistory []api.HistoryEntry
	if !t.Run("scenario", func(t *testing.T) { aliceHistory = w.scenario(t) }) {
		return
	}
	if !t.Run("governance", w.governance) {
		return
	}
	if !t.Run("validators", w.validators) {
		return
	}
	if !t.Run("crash", func(t *testing.T) { w.crashAndRestart(t, aliceHistory) }) {
		return
	}
	t.Run("audit", w.audit)
	t.Run("proof", w.proofs)
	t.Logf("end-to-end run took %v", time.Since(start).Round(time.Millisecond))
}

// setup creates the keys, initialises the node's home as a user would and starts the node.
func (w *world) setup(t *testing.T) {
	for _, name := range []string{"merchant1", "merchant2", "alice", "bob", "carol"} {
		w.newKey(t, name)
	}
	r := w.run(bin.loyald, "init", "--home", w.nodeHome, "--keystore", w.keystore,
		"--owner-key", "merchant1", "--partner-name", "acme", "--partner", "beta="+w.addr["merchant2"].Hex(),
		"--api-listen", "127.0.0.1:0", "--moniker", "e2e")
	if r.code != 0 || r.err != nil || !strings.Contains(r.stdout, "initialised "+w.nodeHome) {
		w.fatalf(t, "loyald init failed:\n%s", r)
	}
	w.startNode(t)

	var st api.Status
	w.okJSON(t, &st, "status")
	if st.ChainID != 1337 || st.Network != "loyal-dev" || st.Height != 0 || st.GenesisHash == (chain.Hash{}) ||
		st.Operator == (chain.Address{}) || st.Validator == (chain.Address{}) {
		w.fatalf(t, "status of a fresh node: %+v", st)
	}
	if !strings.Contains(r.stdout, st.Operator.Hex()) || !strings.Contains(r.stdout, st.Validator.Hex()) {
		w.fatalf(t, "loyald init printed other keys than the node's status %+v:\n%s", st, r)
	}
	w.addr["operator"] = st.Operator
}

// scenario runs every kind of transaction once, checks every balance, tier, history entry,
// rate, settlement position and program total, and returns alice's history.
func (w *world) scenario(t *testing.T) []api.HistoryEntry {
	alice, bob, carol := w.addr["alice"], w.addr["bob"], w.addr["carol"]
	m1, m2, op := w.addr["merchant1"], w.addr["merchant2"], w.addr["operator"]
	token := w.token(t)

	// Both merchants register their programs, in one block. The node's operator key may
	// earn and reverse for ACME: it is how the shop back end credits orders.
	rs := w.parallel(
		[]string{"program", "register", "--from", "merchant1", "--symbol", acme, "--name", "Acme Coffee",
			"--pending-days", "0", "--expiry-days", "365", "--tier", "silver=100", "--tier", "gold=300",
			"--operator", op.Hex(), "--wait", "--json"},
		[]string{"program", "register", "--from", "merchant2", "--symbol", beta, "--name", "Beta Books",
			"--expiry-days", "180", "--tier", "vip=200", "--wait", "--json"},
	)
	w.committed(t, rs[0], "register_program", m1)
	w.committed(t, rs[1], "register_program", m2)
	// Only partners register programs.
	w.fails(t, "not_partner", "program", "register", "--from", "alice", "--symbol", "ALICE", "--name", "Mine", "--wait")

	acmePolicy := chain.Policy{ExpiryDays: 365, Tiers: []chain.Tier{{Name: "silver", Threshold: 100}, {Name: "gold", Threshold: 300}}}
	betaPolicy := chain.Policy{ExpiryDays: 180, Tiers: []chain.Tier{{Name: "vip", Threshold: 200}}}
	var progs api.Programs
	w.okJSON(t, &progs, "programs")
	if len(progs.Programs) != 2 {
		w.fatalf(t, "programs: %d, want ACME and BETA: %+v", len(progs.Programs), progs)
	}
	for _, p := range progs.Programs {
		want := map[string]chain.Program{
			acme: {Symbol: acme, Name: "Acme Coffee", Owner: m1, Operators: []chain.Address{op}, Policy: acmePolicy},
			beta: {Symbol: beta, Name: "Beta Books", Owner: m2, Operators: []chain.Address{}, Policy: betaPolicy},
		}[p.Symbol]
		got := p.Program
		if got.Operators == nil {
			got.Operators = []chain.Address{}
		}
		got.ExpiredThrough = 0 // the day of registration; not the test's business
		w.same(t, "program "+p.Symbol, got, want)
		if p.Supply != 0 || p.Outstanding != 0 {
			w.fatalf(t, "new program %s: supply %d, outstanding %d", p.Symbol, p.Supply, p.Outstanding)
		}
	}

	// The shop back end credits alice's order over HTTP, and retries it at once (say its
	// first call timed out): the answer names the same transaction, pending or committed.
	earnAlice := fmt.Sprintf(`{"program":"ACME","credits":[{"to":"%s","amount":"%d","order_ref":"%s"}]}`, alice.Hex(), aliceEarned, aliceOrder)
	first := w.post(t, token, "/v1/merchant/earn", earnAlice)
	sub := w.submitted(t, first, statusOf(first))
	again := w.post(t, token, "/v1/merchant/earn", earnAlice)
	if s := w.submitted(t, again, statusOf(again)); s.Hash != sub.Hash {
		w.fatalf(t, "a retried order made a new transaction %s, want %s\n%s\n%s", s.Hash, sub.Hash, first, again)
	}
	// The same order with other contents is a conflict, not a second credit; a wrong token is
	// refused.
	conflicting := strings.Replace(earnAlice, fmt.Sprintf(`"%d"`, aliceEarned), `"700"`, 1)
	w.apiError(t, w.post(t, token, "/v1/merchant/earn", conflicting), http.StatusConflict, "order_conflict")
	w.apiError(t, w.post(t, strings.Repeat("0", len(token)), "/v1/merchant/earn", earnAlice), http.StatusUnauthorized, "unauthorized")
	// Carol's order, waiting for its commit; then alice's retried once more with ?wait, and
	// once more after the commit: always the one transaction.
	earnCarol := fmt.Sprintf(`{"program":"ACME","credits":[{"to":"%s","amount":"%d","order_ref":"%s"}]}`, carol.Hex(), carolEarned, carolOrder)
	subCarol := w.submitted(t, w.post(t, token, "/v1/merchant/earn?wait=20s", earnCarol), http.StatusOK)
	subAlice := w.submitted(t, w.post(t, token, "/v1/merchant/earn?wait=20s", earnAlice), http.StatusOK)
	if subAlice.Hash != sub.Hash || subAlice.Status != api.TxCommitted || subAlice.Height == 0 {
		w.fatalf(t, "retried order with ?wait: %+v, want committed %s", subAlice, sub.Hash)
	}
	if s := w.submitted(t, w.post(t, token, "/v1/merchant/earn", earnAlice), http.StatusOK); s != subAlice {
		w.fatalf(t, "order retried after its commit: %+v, want %+v", s, subAlice)
	}
	earnA := w.txInfo(t, subAlice, "earn", op)
	earnC := w.txInfo(t, subCarol, "earn", op)

	// merchant2 credits alice with the CLI; a retry of that order is refused for good.
	betaEarn := []string{"earn", "--from", "merchant2", "--program", beta, "--to", "alice",
		"--amount", fmt.Sprint(betaEarned), "--order-ref", betaOrder, "--wait"}
	earnB := w.tx(t, "earn", m2, betaEarn...)
	w.fails(t, "duplicate_order", betaEarn...)

	w.balances(t, "alice", map[string]bal{acme: {600, 600, 600, "gold"}, beta: {250, 250, 250, "vip"}})
	w.balances(t, "carol", map[string]bal{acme: {300, 300, 300, "gold"}})

	// alice gives bob points with a memo.
	xfer := w.tx(t, "transfer", alice, "transfer", "--from", "alice", "--program", acme, "--to", "bob",
		"--amount", fmt.Sprint(gift), "--memo", giftMemo, "--wait")
	if p, ok := xfer.Tx.Payload.(*chain.Transfer); !ok || p.To != bob || p.Amount != gift || p.Memo != giftMemo {
		w.fatalf(t, "transfer payload %+v", xfer.Tx.Payload)
	}

	// bob redeems a reward while merchant1 proposes the rate ACME→BETA: one block.
	rs = w.parallel(
		[]string{"redeem", "--from", "bob", "--program", acme, "--amount", fmt.Sprint(redeemed), "--reward-ref", rewardRef, "--wait", "--json"},
		[]string{"rate", "set", "--from", "merchant1", "--from-program", acme, "--to-program", beta,
			"--num", fmt.Sprint(rateNum), "--den", fmt.Sprint(rateDen), "--wait", "--json"},
	)
	redeem := w.committed(t, rs[0], "redeem", bob)
	w.committed(t, rs[1], "set_rate", m1)
	side := chain.RateSide{Numerator: rateNum, Denominator: rateDen}
	w.rates(t, chain.RateSide{}, false, side)
	exchange := []string{"exchange", "--from", "alice", "--from-program", acme, "--to-program", beta, "--amount", fmt.Sprint(exchanged), "--wait"}
	w.fails(t, "route_closed", append(exchange, "--min-out", fmt.Sprint(exchangeTo))...)

	// merchant2 agrees the identical rate: the route opens.
	w.tx(t, "set_rate", m2, "rate", "set", "--from", "merchant2", "--from-program", acme, "--to-program", beta,
		"--num", fmt.Sprint(rateNum), "--den", fmt.Sprint(rateDen), "--wait")
	w.rates(t, side, true, side)

	// alice exchanges: floor(101·3/2) = 151 BETA; asking for one more fails and changes nothing.
	w.fails(t, "below_min_out", append(exchange, "--min-out", fmt.Sprint(exchangeTo+1))...)
	exch := w.tx(t, "exchange", alice, append(exchange, "--min-out", fmt.Sprint(exchangeTo))...)
	w.settlement(t, exchangeTo, 0)

	// A refund: the shop reverses 100 of carol's 300, then its retry finds that reversal; at
	// the same time merchant2, the creditor, acknowledges a payment from ACME's owner.
	reverse100 := fmt.Sprintf(`{"program":"ACME","order_ref":"%s","amount":"%d"}`, carolOrder, refund1)
	firstRev := w.post(t, token, "/v1/merchant/reverse", reverse100)
	rev := w.submitted(t, firstRev, statusOf(firstRev))
	w.tx(t, "settle", m2, "settle", "--from", "merchant2", "--program", beta, "--counterparty", acme,
		"--amount", fmt.Sprint(settledAmount), "--wait")
	subRev1 := w.submitted(t, w.post(t, token, "/v1/merchant/reverse?wait=20s", reverse100), http.StatusOK)
	if subRev1.Hash != rev.Hash || subRev1.Status != api.TxCommitted {
		w.fatalf(t, "retried reversal: %+v, want committed %s", subRev1, rev.Hash)
	}
	if s := w.submitted(t, w.post(t, token, "/v1/merchant/reverse", reverse100), http.StatusOK); s != subRev1 {
		w.fatalf(t, "reversal retried after its commit: %+v, want %+v", s, subRev1)
	}
	rev1 := w.txInfo(t, subRev1, "reverse", op)
	w.settlement(t, exchangeTo, settledAmount)
	w.balances(t, "carol", map[string]bal{acme: {200, 200, 200, "silver"}}) // gold → silver

	// A second partial refund brings the order's reversed total to 150: a new transaction
	// reversing the difference.
	reverse150 := fmt.Sprintf(`{"program":"ACME","order_ref":"%s","amount":"%d"}`, carolOrder, refund2)
	subRev2 := w.submitted(t, w.post(t, token, "/v1/merchant/reverse?wait=20s", reverse150), http.StatusOK)
	rev2 := w.txInfo(t, subRev2, "reverse", op)
	if p, ok := rev2.Tx.Payload.(*chain.Reverse); !ok || subRev2.Hash == rev1.Hash || p.Amount != refund2-refund1 || p.OrderRef != carolOrder {
		w.fatalf(t, "second refund: tx %s payload %+v, want a new reversal of %d", subRev2.Hash, rev2.Tx.Payload, refund2-refund1)
	}

	// Spending more than alice has fails with one line and changes nothing.
	acctBefore := w.ok(t, "balance", "alice", "--json").stdout
	histBefore := w.ok(t, "history", "alice", "--all", "--json").stdout
	w.fails(t, "insufficient_points", "transfer", "--from", "alice", "--program", acme, "--to", "bob", "--amount", "100000", "--wait")
	if a, h := w.ok(t, "balance", "alice", "--json").stdout, w.ok(t, "history", "alice", "--all", "--json").stdout; a != acctBefore || h != histBefore {
		w.fatalf(t, "a failed transfer changed alice's account:\nbefore %s\nafter %s\nhistory before %s\nafter %s", acctBefore, a, histBefore, h)
	}

	// Every balance, tier and lot.
	acmeExpiry := w.day(t, earnA.Height) + 365
	w.balances(t, "alice", map[string]bal{
		acme: {600 - gift - exchanged, 600 - gift - exchanged, 600, "gold"}, // 349
		beta: {betaEarned + exchangeTo, betaEarned + exchangeTo, betaEarned, "vip"},
	})
	w.balances(t, "bob", map[string]bal{acme: {gift - redeemed, gift - redeemed, 0, ""}})
	w.balances(t, "carol", map[string]bal{acme: {carolEarned - refund2, carolEarned - refund2, carolEarned - refund2, "silver"}})
	w.balances(t, "merchant1", map[string]bal{})
	exchExpiry := min(w.day(t, exch.Height)+180, acmeExpiry)
	w.lots(t, "alice", acme, map[chain.Day]uint64{acmeExpiry: 600 - gift - exchanged})
	betaLots := map[chain.Day]uint64{w.day(t, earnB.Height) + 180: betaEarned}
	betaLots[exchExpiry] += exchangeTo // merges with the earned lot when both expire the same day
	w.lots(t, "alice", beta, betaLots)

	// Every history entry, exactly.
	aliceHistory := []api.HistoryEntry{
		w.entry(t, earnA, chain.Entry{Account: alice, Program: acme, Cause: chain.CauseEarn, Credit: aliceEarned, Ref: aliceOrder, Counterparty: op, ExpiryDay: acmeExpiry}),
		w.entry(t, earnB, chain.Entry{Account: alice, Program: beta, Cause: chain.CauseEarn, Credit: betaEarned, Ref: betaOrder, Counterparty: m2, ExpiryDay: w.day(t, earnB.Height) + 180}),
		w.entry(t, xfer, chain.Entry{Account: alice, Program: acme, Cause: chain.CauseTransferOut, Debit: gift, Ref: giftMemo, Counterparty: bob}),
		w.entry(t, exch, chain.Entry{Account: alice, Program: acme, Cause: chain.CauseExchangeOut, Debit: exchanged, Route: "ACME>BETA"}),
		w.entry(t, exch, chain.Entry{Account: alice, Program: beta, Cause: chain.CauseExchangeIn, Credit: exchangeTo, Route: "ACME>BETA", ExpiryDay: exchExpiry}),
	}
	w.same(t, "alice's history", w.history(t, "alice"), aliceHistory)
	w.same(t, "bob's history", w.history(t, "bob"), []api.HistoryEntry{
		w.entry(t, xfer, chain.Entry{Account: bob, Program: acme, Cause: chain.CauseTransferIn, Credit: gift, Ref: giftMemo, Counterparty: alice}),
		w.entry(t, redeem, chain.Entry{Account: bob, Program: acme, Cause: chain.CauseRedeem, Debit: redeemed, Ref: rewardRef}),
	})
	w.same(t, "carol's history", w.history(t, "carol"), []api.HistoryEntry{
		w.entry(t, earnC, chain.Entry{Account: carol, Program: acme, Cause: chain.CauseEarn, Credit: carolEarned, Ref: carolOrder, Counterparty: op, ExpiryDay: w.day(t, earnC.Height) + 365}),
		w.entry(t, rev1, chain.Entry{Account: carol, Program: acme, Cause: chain.CauseReverse, Debit: refund1, Ref: carolOrder, Counterparty: op}),
		w.entry(t, rev2, chain.Entry{Account: carol, Program: acme, Cause: chain.CauseReverse, Debit: refund2 - refund1, Ref: carolOrder, Counterparty: op}),
	})

	// The programs' totals: what was minted and what the merchants still owe customers.
	w.programStats(t, acme, chain.ProgramStats{
		Earned: aliceEarned + carolEarned, Reversed: refund2, Redeemed: redeemed, ExchangedOut: exchanged,
	}, aliceEarned+carolEarned, (600-gift-exchanged)+(gift-redeemed)+(carolEarned-refund2))
	w.programStats(t, beta, chain.ProgramStats{Earned: betaEarned, ExchangedIn: exchangeTo}, betaEarned+exchangeTo, betaEarned+exchangeTo)
	return aliceHistory
}

// statusOf accepts a merchant endpoint's answer without ?wait: 202 while the transaction is
// pending, 200 if it was already committed.
func statusOf(a answer) int {
	if a.status == http.StatusOK {
		return http.StatusOK
	}
	return http.StatusAccepted
}

// committed checks a `--wait --json` transaction command: exit 0, and an api.TxInfo of a
// committed transaction of kind sent by sender.
func (w *world) committed(t *testing.T, r result, kind string, sender chain.Address) api.TxInfo {
	t.Helper()
	if r.code != 0 || r.err != nil || r.stderr != "" {
		w.fatalf(t, "command failed:\n%s", r)
	}
	var info api.TxInfo
	if err := decodeStrict([]byte(r.stdout), &info); err != nil {
		w.fatalf(t, "decoding api.TxInfo: %v\n%s", err, r)
	}
	if info.Status != api.TxCommitted || info.Height == 0 || info.Kind != kind || info.Sender != sender ||
		info.Tx == nil || info.Tx.Hash() != info.Hash {
		w.fatalf(t, "want a committed %s from %s, got status %q height %d kind %q sender %s\n%s",
			kind, sender.Hex(), info.Status, info.Height, info.Kind, info.Sender.Hex(), r)
	}
	return info
}

// tx runs a transaction command with --wait --json and checks it committed.
func (w *world) tx(t *testing.T, kind string, sender chain.Address, args ...string) api.TxInfo {
	t.Helper()
	return w.committed(t, w.loyal(append(args, "--json")...), kind, sender)
}

// txInfo looks a merchant endpoint's transaction up with `loyal tx HASH --json`: it must be
// committed where the endpoint said.
func (w *world) txInfo(t *testing.T, s api.Submitted, kind string, sender chain.Address) api.TxInfo {
	t.Helper()
	info := w.committed(t, w.loyal("tx", s.Hash.Hex(), "--json"), kind, sender)
	if info.Hash != s.Hash || info.Height != s.Height {
		w.fatalf(t, "loyal tx %s: at height %d, the endpoint said %d", s.Hash, info.Height, s.Height)
	}
	return info
}

// bal is what an account's balance in one program must show.
type bal struct {
	total, available, earned uint64
	tier                     string
}

// account is `loyal balance NAME --json`.
func (w *world) account(t *testing.T, name string) api.AccountInfo {
	t.Helper()
	var info api.AccountInfo
	w.okJSON(t, &info, "balance", name)
	if info.Address != w.addr[name] {
		w.fatalf(t, "balance %s: address %s, want %s", name, info.Address.Hex(), w.addr[name].Hex())
	}
	return info
}

// balances checks `loyal balance NAME --json`: exactly the programs of want, each with its
// total, available and lifetime earned points and tier; nothing pending or expiring soon,
// and lots that add up to the total.
func (w *world) balances(t *testing.T, name string, want map[string]bal) {
	t.Helper()
	info := w.account(t, name)
	got := map[string]bal{}
	for _, p := range info.Programs {
		got[p.Program] = bal{p.Total, p.Available, p.Earned, p.Tier}
		var lots uint64
		for _, l := range p.Lots {
			lots += l.Amount
		}
		if p.Pending != 0 || p.Total != p.Available+p.Pending || p.Expiring != 0 || lots != p.Total {
			w.fatalf(t, "balance %s %s: total %d, available %d, pending %d, expiring %d, lots summing to %d",
				name, p.Program, p.Total, p.Available, p.Pending, p.Expiring, lots)
		}
	}
	if !reflect.DeepEqual(got, want) {
		w.fatalf(t, "balance %s (program: {total available earned tier}):\n got %+v\nwant %+v", name, got, want)
	}
}

// lots checks an account's lots in one program by expiry day, with their dates.
func (w *world) lots(t *testing.T, name, program string, want map[chain.Day]uint64) {
	t.Helper()
	got := map[chain.Day]uint64{}
	for _, p := range w.account(t, name).Programs {
		if p.Program != program {
			continue
		}
		for _, l := range p.Lots {
			got[l.ExpiryDay] += l.Amount
			date := time.Unix(int64(l.ExpiryDay)*chain.SecondsPerDay, 0).UTC().Format(time.DateOnly)
			if l.Expires != date || l.AvailableOn != "" {
				w.fatalf(t, "%s's %s lot %+v: want expires %s and no available_on", name, program, l, date)
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		w.fatalf(t, "%s's %s lots by expiry day: got %v, want %v", name, program, got, want)
	}
}

// rates checks `loyal rates --json`: the one route ACME→BETA with both owners' sides.
func (w *world) rates(t *testing.T, betaSide chain.RateSide, open bool, acmeSide chain.RateSide) {
	t.Helper()
	var rates api.Rates
	w.okJSON(t, &rates, "rates")
	if len(rates.Routes) != 1 {
		w.fatalf(t, "rates: %d routes, want ACME→BETA alone: %+v", len(rates.Routes), rates)
	}
	r := rates.Routes[0]
	if r.From != acme || r.To != beta || r.FromSide != acmeSide || r.ToSide != betaSide || r.Open != open || r.Cap != 0 {
		w.fatalf(t, "rates: route %+v, want ACME→BETA from_side %+v to_side %+v open %v", r, acmeSide, betaSide, open)
	}
}

// settlement checks `loyal settlement --json`: ACME's owner owes BETA's owner.
func (w *world) settlement(t *testing.T, owed, settled uint64) {
	t.Helper()
	var s api.Settlement
	w.okJSON(t, &s, "settlement")
	want := []api.PositionInfo{{Debtor: acme, Creditor: beta, Position: chain.Position{Owed: owed, Settled: settled}, OpenAmount: owed - settled}}
	w.same(t, "settlement positions", s.Positions, want)
}

// programStats checks `loyal program SYMBOL --json`'s totals.
func (w *world) programStats(t *testing.T, symbol string, stats chain.ProgramStats, supply, outstanding uint64) {
	t.Helper()
	var p api.ProgramInfo
	w.okJSON(t, &p, "program", symbol)
	if p.Symbol != symbol || p.Stats != stats || p.Supply != supply || p.Outstanding != outstanding {
		w.fatalf(t, "program %s: stats %+v supply %d outstanding %d, want %+v supply %d outstanding %d",
			symbol, p.Stats, p.Supply, p.Outstanding, stats, supply, outstanding)
	}
}

// history is `loyal history NAME --all --json`'s entries.
func (w *world) history(t *testing.T, name string) []api.HistoryEntry {
	t.Helper()
	var h api.History
	w.okJSON(t, &h, "history", name, "--all")
	if h.Address != w.addr[name] || h.Next != "" {
		w.fatalf(t, "history %s: address %s, next %q", name, h.Address.Hex(), h.Next)
	}
	return h.Entries
}

// entry is the history entry the transaction info must have caused.
func (w *world) entry(t *testing.T, info api.TxInfo, e chain.Entry) api.HistoryEntry {
	t.Helper()
	return api.HistoryEntry{
		Height: info.Height, Time: w.blockTime(t, info.Height), TxHash: info.Hash, TxIndex: uint32(info.Index), Entry: e,
		Kind: info.Kind,
	}
}

// blockTime is a block's time, from GET /v1/blocks/{height} (the CLI has no block command).
func (w *world) blockTime(t *testing.T, height uint64) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	b, err := w.client.Block(ctx, height)
	if err != nil {
		w.fatalf(t, "block %d: %v", height, err)
	}
	return b.Block.Header.Time
}

// day is the UTC day of a block, which lot expiries count from.
func (w *world) day(t *testing.T, height uint64) chain.Day {
	t.Helper()
	return chain.DayOf(w.blockTime(t, height))
}

// same fails t unless got and want are deeply equal, showing them as JSON; of two slices it
// shows the first entry that differs.
func (w *world) same(t *testing.T, what string, got, want any) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	g, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	if g.Kind() == reflect.Slice && wv.Kind() == reflect.Slice {
		for i := range max(g.Len(), wv.Len()) {
			var ge, we any = "(none)", "(none)"
			if i < g.Len() {
				ge = g.Index(i).Interface()
			}
			if i < wv.Len() {
				we = wv.Index(i).Interface()
			}
			if !reflect.DeepEqual(ge, we) {
				w.fatalf(t, "%s: %d entries, want %d; the first difference is entry %d:\n got %s\nwant %s",
					what, g.Len(), wv.Len(), i, asJSON(ge), asJSON(we))
			}
		}
	}
	w.fatalf(t, "%s:\n got %s\nwant %s", what, asJSON(got), asJSON(want))
}

func asJSON(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("%+v", v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

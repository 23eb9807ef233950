package human

import (
	"strings"
	"testing"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/wallet"
)

var (
	alice = mustAddress("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
	bob   = mustAddress("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359")
)

func mustAddress(s string) chain.Address {
	a, err := wallet.ParseAddress(s)
	if err != nil {
		panic(err)
	}
	return a
}

func golden(t *testing.T, name string, write func(*strings.Builder) error, want string) {
	t.Helper()
	var b strings.Builder
	if err := write(&b); err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != want {
		t.Errorf("%s:\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

func TestWriteBalances(t *testing.T) {
	acct := api.AccountInfo{
		Address: alice, Height: 42, Nonce: 3,
		Programs: []api.ProgramBalance{
			{Program: "ACME", Total: 1500, Available: 1000, Pending: 500, Earned: 2500, Tier: "gold", Expiring: 200},
			{Program: "BETA", Total: 7, Available: 7, Earned: 0},
		},
	}
	golden(t, "balances", func(b *strings.Builder) error { return WriteBalances(b, acct) }, ""+
		"account 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed at height 42, next nonce 3\n"+
		"PROGRAM  TOTAL  AVAILABLE  PENDING  TIER  EXPIRING 30D  EARNED\n"+
		"ACME     1500   1000       500      gold  200           2500\n"+
		"BETA     7      7          0        -     0             0\n")

	golden(t, "empty balances", func(b *strings.Builder) error {
		return WriteBalances(b, api.AccountInfo{Address: bob, Height: 1})
	}, "account 0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359 at height 1, next nonce 0\nno points\n")
}

func TestWriteHistory(t *testing.T) {
	entry := func(height, time uint64, kind string, e chain.Entry) api.HistoryEntry {
		return api.HistoryEntry{Height: height, Time: time, Entry: e, Kind: kind}
	}
	const day = 20000 // 2024-10-04
	entries := []api.HistoryEntry{
		entry(3, day*chain.SecondsPerDay+3600, "earn", chain.Entry{Account: alice, Program: "ACME", Cause: chain.CauseEarn, Credit: 100, Ref: "order-1", Counterparty: bob, AvailableDay: day + 15}),
		entry(9, day*chain.SecondsPerDay+7200, "transfer", chain.Entry{Account: alice, Program: "ACME", Cause: chain.CauseTransferOut, Debit: 40, Ref: "happy birthday", Counterparty: bob}),
		entry(10, day*chain.SecondsPerDay+7300, "exchange", chain.Entry{Account: alice, Program: "BETA", Cause: chain.CauseExchangeIn, Credit: 30, Route: "ACME>BETA"}),
		entry(11, day*chain.SecondsPerDay+7400, "reverse", chain.Entry{Account: alice, Program: "ACME", Cause: chain.CauseReverse, Debit: 60, Unrecovered: 40, Ref: "order-1", Counterparty: bob}),
		entry(12, day*chain.SecondsPerDay+7500, "transfer", chain.Entry{Account: alice, Program: "ACME", Cause: chain.CauseTransferIn, Credit: 1, Ref: "tab\there\x1b[2J", Counterparty: bob}),
	}
	golden(t, "history", func(b *strings.Builder) error { return WriteHistory(b, entries) }, ""+
		"HEIGHT  TIME                  KIND      PROGRAM  POINTS  CAUSE/REF                                COUNTERPARTY\n"+
		"3       2024-10-04T01:00:00Z  earn      ACME     +100    earn order-1 (pending until 2024-10-19)  0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359\n"+
		"9       2024-10-04T02:00:00Z  transfer  ACME     -40     transfer_out happy birthday              0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359\n"+
		"10      2024-10-04T02:01:40Z  exchange  BETA     +30     exchange_in ACME>BETA                    -\n"+
		"11      2024-10-04T02:03:20Z  reverse   ACME     -60     reverse order-1 (unrecovered 40)         0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359\n"+
		"12      2024-10-04T02:05:00Z  transfer  ACME     +1      transfer_in \"tab\\there\\x1b[2J\"           0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359\n")

	golden(t, "empty history", func(b *strings.Builder) error { return WriteHistory(b, nil) }, "no history\n")
}

func TestWriteReads(t *testing.T) {
	rates := api.Rates{Height: 5, Routes: []api.RateInfo{
		{From: "ACME", To: "BETA", Route: chain.Route{FromSide: chain.RateSide{Numerator: 1, Denominator: 2, DailyCap: 1000}, ToSide: chain.RateSide{Numerator: 1, Denominator: 2}}, Open: true, Cap: 1000},
		{From: "BETA", To: "ACME", Route: chain.Route{ToSide: chain.RateSide{Numerator: 2, Denominator: 1}}},
	}}
	golden(t, "rates", func(b *strings.Builder) error { return WriteRates(b, rates) }, ""+
		"exchange routes at height 5\n"+
		"FROM  TO    FROM OWNER    TO OWNER  OPEN  DAILY CAP\n"+
		"ACME  BETA  1/2 cap 1000  1/2       yes   1000\n"+
		"BETA  ACME  -             2/1       no    -\n")

	settlement := api.Settlement{Height: 5, Positions: []api.PositionInfo{
		{Debtor: "ACME", Creditor: "BETA", Position: chain.Position{Owed: 300, Settled: 100}, OpenAmount: 200},
	}}
	golden(t, "settlement", func(b *strings.Builder) error { return WriteSettlement(b, settlement) }, ""+
		"settlement at height 5\n"+
		"DEBTOR  CREDITOR  OWED  SETTLED  OPEN\n"+
		"ACME    BETA      300   100      200\n")

	programs := api.Programs{Height: 5, Programs: []api.ProgramInfo{
		{Program: chain.Program{Symbol: "ACME", Name: "Acme Coffee", Owner: alice, Stats: chain.ProgramStats{Redeemed: 10, Expired: 2}}, Supply: 100, Outstanding: 88},
		{Program: chain.Program{Symbol: "BETA", Name: "Beta\nBooks", Owner: bob, Retired: true}},
	}}
	golden(t, "programs", func(b *strings.Builder) error { return WritePrograms(b, programs) }, ""+
		"programs at height 5\n"+
		"SYMBOL  NAME           OWNER                                       OUTSTANDING  SUPPLY  REDEEMED  EXPIRED  STATUS\n"+
		"ACME    Acme Coffee    0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed  88           100     10        2        active\n"+
		"BETA    \"Beta\\nBooks\"  0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359  0            0       0         0        retired\n")

	program := api.ProgramInfo{Program: chain.Program{
		Symbol: "ACME", Name: "Acme Coffee", Owner: alice, Operators: []chain.Address{bob},
		Policy: chain.Policy{PendingDays: 14, ExpiryDays: 365, TierWindowDays: 0, Tiers: []chain.Tier{{Name: "silver", Threshold: 100}, {Name: "gold", Threshold: 1000}}},
		Stats:  chain.ProgramStats{Earned: 120, Reversed: 20, Unrecovered: 5, Redeemed: 10, Expired: 2, ExchangedIn: 0, ExchangedOut: 0},
	}, Supply: 120, Outstanding: 88, Height: 5}
	golden(t, "program", func(b *strings.Builder) error { return WriteProgram(b, program) }, ""+
		"symbol         ACME\n"+
		"name           Acme Coffee\n"+
		"status         active\n"+
		"owner          0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\n"+
		"operators      0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359\n"+
		"pending days   14\n"+
		"expiry         365 days after available\n"+
		"tiers          silver=100, gold=1000\n"+
		"tier window    lifetime\n"+
		"supply         120\n"+
		"outstanding    88\n"+
		"earned         120\n"+
		"reversed       20\n"+
		"unrecovered    5\n"+
		"redeemed       10\n"+
		"expired        2\n"+
		"exchanged in   0\n"+
		"exchanged out  0\n"+
		"height         5\n")

	keys := []wallet.KeyInfo{{Name: "alice", Address: alice, File: "/ks/UTC--a"}, {Name: "gone", Address: bob}, {Address: bob, File: "/ks/UTC--b"}}
	golden(t, "keys", func(b *strings.Builder) error { return WriteKeys(b, keys) }, ""+
		"NAME   ADDRESS                                     FILE\n"+
		"alice  0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed  /ks/UTC--a\n"+
		"gone   0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359  (missing)\n"+
		"-      0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359  /ks/UTC--b\n")
}

func TestWriteEvidence(t *testing.T) {
	golden(t, "none", func(b *strings.Builder) error { return WriteEvidence(b, api.EvidenceList{}) }, "no evidence\n")
	golden(t, "two", func(b *strings.Builder) error {
		return WriteEvidence(b, api.EvidenceList{Evidence: []api.Evidence{
			{Kind: "proposal", Validator: alice, Height: 12, Round: 0, A: "0x01", B: "0x02"},
			{Kind: "vote", Validator: alice, Height: 12, Round: 1, A: "0x03", B: "0x04"},
		}})
	}, `VALIDATOR                                   KIND      HEIGHT  ROUND
0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed  proposal  12      0
0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed  vote      12      1
`)
}

// During a rotation of the node's operator key, status names the old key beside the one the
// node signs with.
func TestWriteStatusDuringARotation(t *testing.T) {
	s := api.Status{ChainID: 1337, Network: "loyal-dev", Height: 7, Validator: alice, Operator: bob, Operators: []chain.Address{bob, alice}}
	golden(t, "status", func(b *strings.Builder) error { return WriteStatus(b, s) }, ""+
		"network       loyal-dev\n"+
		"chain id      1337\n"+
		"genesis       0x0000000000000000000000000000000000000000000000000000000000000000\n"+
		"height        7\n"+
		"head          0x0000000000000000000000000000000000000000000000000000000000000000\n"+
		"head time     "+FormatTime(0)+"\n"+
		"state root    0x0000000000000000000000000000000000000000000000000000000000000000\n"+
		"validator     0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\n"+
		"operator      0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359\n"+
		"old operator  0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\n"+
		"mempool       0 txs, 0 bytes\n")
}

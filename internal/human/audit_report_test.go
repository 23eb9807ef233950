package human

import (
	"strings"
	"testing"

	"github.com/loyal-ledger/loyal/audit/report"
)

func TestWriteAuditReport(t *testing.T) {
	r := &report.Report{VerifiedHeight: 9, Statements: []report.Statement{{
		FromDate: 20254, ToDate: 20269, FromHeight: 2, ToHeight: 9, ToTime: 1751274400,
		Programs: []report.ProgramFigures{{
			Symbol: "ACME", Owner: alice, Opening: 10, Issued: 400, Reversed: 3, Unrecovered: 2, Redeemed: 17, Expired: 40,
			ExchangedOut: 20, Outstanding: 330, Holders: 4, ActiveMembers: 5, RepeatEarners: 2,
			RedemptionRate: report.Rate{BPS: 425, Defined: true}, BreakageRate: report.Rate{BPS: 1000, Defined: true},
		}, {Symbol: "BETA", Owner: bob, Opening: 0, ExchangedIn: 10, Outstanding: 10, Pending: 0, Holders: 1, ActiveMembers: 1,
			RedemptionRate: report.Rate{Defined: true}, BreakageRate: report.Rate{Defined: true}}},
		Settlement: []report.PositionFigures{{Debtor: "ACME", Creditor: "BETA", DebtorOwner: alice, CreditorOwner: bob,
			Opening: 5, Owed: 10, Settled: 1, Open: 14, OwedTotal: 20, SettledTotal: 6,
			Payments: []report.Payment{{Height: 7, Time: 1751270000, Amount: 1}}}},
	}, {
		FromDate: 20270, ToDate: 20270, FromHeight: 9, ToHeight: 9, ToTime: 1751274400, Incomplete: true,
		Programs: []report.ProgramFigures{{Symbol: "ACME", Owner: alice, Opening: 330, Outstanding: 330, Holders: 4}},
	}}}
	golden(t, "audit report", func(b *strings.Builder) error { return WriteAuditReport(b, r) }, `genesis             0x0000000000000000000000000000000000000000000000000000000000000000
verified to height  9

statement 2025-06-15 to 2025-06-30: blocks 3 to 9, closing at 2025-06-30T09:06:40Z

PROGRAM  OPENING  ISSUED  REVERSED  UNRECOVERED  REDEEMED  EXPIRED  EXCH OUT  EXCH IN  OUTSTANDING  PENDING
ACME     10       400     3         2            17        40       20        0        330          0
BETA     0        0       0         0            0         0        0         10       10           0

PROGRAM  OWNER                                       HOLDERS  ACTIVE  REPEAT EARNERS  REDEMPTION  BREAKAGE
ACME     0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed  4        5       2               4.25%       10.00%
BETA     0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359  1        1       0               0.00%       0.00%

settlement (the debtor program's owner owes the creditor's):
DEBTOR  CREDITOR  OPENING  OWED  SETTLED  OPEN  OWED TOTAL  SETTLED TOTAL
ACME    BETA      5        10    1        14    20          6

payments recorded:
HEIGHT  TIME                  DEBTOR  CREDITOR  AMOUNT  TX
7       2025-06-30T07:53:20Z  ACME    BETA      1       0x0000000000000000000000000000000000000000000000000000000000000000

statement 2025-07-01 to 2025-07-01: no block; as of block 9 at 2025-06-30T09:06:40Z
  incomplete: the chain ends before the end of 2025-07-01

PROGRAM  OPENING  ISSUED  REVERSED  UNRECOVERED  REDEEMED  EXPIRED  EXCH OUT  EXCH IN  OUTSTANDING  PENDING
ACME     330      0       0         0            0         0        0         0        330          0

PROGRAM  OWNER                                       HOLDERS  ACTIVE  REPEAT EARNERS  REDEMPTION  BREAKAGE
ACME     0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed  4        0       0               -           -

settlement: no exchange between programs
`)
}

// Package report builds the auditor's statements of a chain: per program what was issued,
// reversed, redeemed, expired and exchanged in a period, the outstanding points (the issuer's
// liability) at its end, holders, active members and repeat earners, the redemption and
// breakage rates, and the settlement matrix between programs with the payments recorded.
// docs/audit-report.md defines every figure by formula.
//
// A Builder is fed by audit/verify's Observe hook, block by block, so a report is built from
// a chain that has been verified from genesis and never from a second execution of it. The
// explorer feeds the same Builder.
//
//	b, err := report.New(report.Options{From: from, To: to, Monthly: true})
//	vrep, err := verify.Verify(ctx, src, verify.Options{StopAt: b.StopAt(), Observe: b.Observe})
//	rep, err := b.Finish(vrep)
//
// Dates are UTC days. A date maps to the state after the last block at or before the end of
// that day; a period's figures are those of the blocks after its opening state up to and
// including its closing one.
package report

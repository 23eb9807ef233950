package verify_test

import (
	"testing"

	"github.com/loyal-ledger/loyal/audit/internal/testchain"
	"github.com/loyal-ledger/loyal/audit/verify"
	"github.com/loyal-ledger/loyal/chain"
)

// Partner governance re-executes like every other kind (ADR 0009): a chain that admits a
// partner, lets it run a program and removes it verifies, its governance entries move no
// program's totals, and the verified state holds the partners and the retired program the
// ledger holds.
func TestVerifyGovernance(t *testing.T) {
	c := testchain.Build(t, testchain.Options{Blocks: 3, Governance: true})
	var partners []chain.PartnerInfo
	var gamma *chain.Program
	var proposals []*chain.Proposal
	var governanceEntries int
	rep, err := verifyBytes(exportOf(t, c), verify.Options{Genesis: c.Genesis.Hash(), Observe: func(ob *verify.Observed) error {
		for _, es := range ob.Entries {
			for _, e := range es {
				if e.Program == "" {
					governanceEntries++
				}
			}
		}
		if ob.Block.Header.Height != c.Ledger.Head().Height {
			return nil
		}
		if err := chain.ForEachPartner(ob.Scan, func(p chain.PartnerInfo) error { partners = append(partners, p); return nil }); err != nil {
			return err
		}
		if err := chain.ForEachProposal(ob.Scan, func(p *chain.Proposal) error { proposals = append(proposals, p); return nil }); err != nil {
			return err
		}
		return chain.ForEachProgram(ob.Scan, func(p *chain.Program) error {
			if p.Symbol == "GAMMA" {
				gamma = p
			}
			return nil
		})
	}})
	if err != nil {
		t.Fatalf("%v (%+v)", err, rep.Failure)
	}
	if rep.StateRoot != c.Ledger.Head().StateRoot {
		t.Fatalf("verified state root %s, ledger %s", rep.StateRoot, c.Ledger.Head().StateRoot)
	}
	// Acme proposed and Beta approved twice: propose, approve, admitted, propose, approve, removed.
	if governanceEntries != 6 {
		t.Fatalf("%d governance entries, want 6", governanceEntries)
	}
	if len(partners) != 2 || len(proposals) != 2 || proposals[0].StatusAt(0) != "executed" || proposals[1].StatusAt(0) != "executed" {
		t.Fatalf("partners %+v, proposals %+v", partners, proposals)
	}
	if gamma == nil || !gamma.Retired || gamma.Stats.Earned != 40 {
		t.Fatalf("GAMMA after its partner's removal: %+v", gamma)
	}
	var gammaReport *verify.ProgramReport
	for i := range rep.Programs {
		if rep.Programs[i].Symbol == "GAMMA" {
			gammaReport = &rep.Programs[i]
		}
	}
	if gammaReport == nil || gammaReport.Earned != 40 || gammaReport.Outstanding != 40 || gammaReport.Balances != 40 {
		t.Fatalf("GAMMA in the report: %+v", gammaReport)
	}
	for _, p := range rep.Programs {
		if p.Symbol == "" {
			t.Fatalf("a program without a symbol in the report: %+v", rep.Programs)
		}
	}
}

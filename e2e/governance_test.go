package e2e

import (
	"strings"
	"testing"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
)

// committedProposal is what `loyal governance propose|approve --wait --json` print.
type committedProposal struct {
	Tx       api.TxInfo       `json:"tx"`
	Proposal api.ProposalInfo `json:"proposal"`
}

// governance admits a third partner with the CLI as the two partners would (ADR 0009): one
// proposes, the other approves, and every step shows in `loyal partners`, `loyal governance
// list` and the history of the accounts concerned.
func (w *world) governance(t *testing.T) {
	m1, m2 := w.addr["merchant1"], w.addr["merchant2"]
	dave := w.newKey(t, "dave")

	var ps api.Partners
	w.okJSON(t, &ps, "partners")
	if ps.Version != 3 || len(ps.Partners) != 2 || len(ps.Proposals) != 0 {
		w.fatalf(t, "partners before: %+v", ps)
	}
	w.fails(t, "not_partner", "governance", "propose", "--from", "alice", "--action", "admit", "--partner", "dave", "--name", "Dave's Deli", "--wait")

	var cp committedProposal
	w.okJSON(t, &cp, "governance", "propose", "--from", "merchant1", "--action", "admit", "--partner", "dave", "--name", "Dave's Deli", "--wait")
	p := cp.Proposal
	if cp.Tx.Kind != "propose" || cp.Tx.Sender != m1 || p.ID != 1 || p.Status != "open" || p.Counted != 1 || p.Needed != 2 ||
		p.Action != chain.ActionAdmitPartner || p.Partner != dave || p.Name != "Dave's Deli" || p.Height != cp.Tx.Height {
		w.fatalf(t, "proposed: %+v", cp)
	}
	w.okJSON(t, &ps, "partners")
	if len(ps.Partners) != 2 || len(ps.Proposals) != 1 || ps.Proposals[0].ID != 1 {
		w.fatalf(t, "partners with a proposal open: %+v", ps)
	}
	w.fails(t, "already_approved", "governance", "approve", "1", "--from", "merchant1", "--wait")

	w.okJSON(t, &cp, "governance", "approve", "1", "--from", "merchant2", "--wait")
	if cp.Tx.Kind != "approve" || cp.Tx.Sender != m2 || cp.Proposal.Status != "executed" || cp.Proposal.Closed != cp.Tx.Height {
		w.fatalf(t, "approved: %+v", cp)
	}
	executedAt := cp.Tx.Height
	w.fails(t, "proposal_closed", "governance", "approve", "1", "--from", "merchant2", "--wait")

	w.okJSON(t, &ps, "partners")
	names := map[chain.Address]string{}
	for _, p := range ps.Partners {
		names[p.Address] = p.Name
	}
	if len(ps.Partners) != 3 || names[dave] != "Dave's Deli" || len(ps.Proposals) != 0 {
		w.fatalf(t, "partners after: %+v", ps)
	}
	var list api.Proposals
	w.okJSON(t, &list, "governance", "list")
	if len(list.Proposals) != 1 || list.Proposals[0].Status != "executed" || list.Proposals[0].Approvals[1] != m2 {
		w.fatalf(t, "governance list: %+v", list)
	}
	w.okJSON(t, &list, "governance", "list", "--status", "open")
	if len(list.Proposals) != 0 {
		w.fatalf(t, "open proposals: %+v", list)
	}
	human := w.ok(t, "partners").stdout
	for _, want := range []string{"Dave's Deli", dave.Hex(), "no open proposals"} {
		if !strings.Contains(human, want) {
			w.fatalf(t, "loyal partners does not say %q:\n%s", want, human)
		}
	}

	// Every step is in the history of the accounts it concerns, with its cause.
	for _, c := range []struct {
		who   chain.Address
		cause chain.Cause
		ref   string
	}{
		{m1, chain.CauseProposal, "1:admit_partner"},
		{m2, chain.CauseApproval, "1:admit_partner"},
		{dave, chain.CausePartnerAdmitted, "1:admit_partner"},
	} {
		var h api.History
		w.okJSON(t, &h, "history", c.who.Hex(), "--all")
		found := false
		for _, e := range h.Entries {
			if e.Entry.Cause == c.cause && e.Entry.Ref == c.ref && e.Entry.Credit == 0 && e.Entry.Debit == 0 && e.Entry.Program == "" {
				found = true
				if c.cause != chain.CauseProposal && e.Height != executedAt {
					w.fatalf(t, "%s of %s at height %d, want %d", c.cause, c.who.Hex(), e.Height, executedAt)
				}
			}
		}
		if !found {
			w.fatalf(t, "no %s %s in the history of %s: %+v", c.cause, c.ref, c.who.Hex(), h.Entries)
		}
	}
	// The new partner registers a program of its own.
	w.tx(t, "register_program", dave, "program", "register", "--from", "dave", "--symbol", "DELI", "--name", "Dave's Deli", "--wait")
}

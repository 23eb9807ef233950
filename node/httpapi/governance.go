package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
)

// The governance reads (docs/adr/0009-partner-governance.md): the partners, and the proposals
// with their status at the head block's time and their approvals counted as execution would
// count them now.

// governanceView is the partner set at the head, for counting approvals.
type governanceView struct {
	height, time uint64
	partners     []api.PartnerInfo
	isPartner    map[chain.Address]bool
}

func (s *Server) governanceView() (*governanceView, error) {
	head := s.l.Head()
	v := &governanceView{height: head.Height, time: head.Time, partners: []api.PartnerInfo{}, isPartner: map[chain.Address]bool{}}
	index := map[chain.Address]int{}
	err := s.l.Partners(func(p chain.PartnerInfo) error {
		index[p.Address] = len(v.partners)
		v.partners = append(v.partners, api.PartnerInfo{Address: p.Address, Name: p.Name, Programs: []string{}})
		v.isPartner[p.Address] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.l.Programs(func(p *chain.Program) error {
		whose, ok, err := s.l.ProgramPartner(p.Symbol)
		if err != nil {
			return err
		}
		if !ok {
			whose = p.Owner // a version 1 chain records no program's partner
		}
		if i, ok := index[whose]; ok {
			v.partners[i].Programs = append(v.partners[i].Programs, p.Symbol)
		}
		return nil
	})
	return v, err
}

func (v *governanceView) info(p *chain.Proposal) api.ProposalInfo {
	counted, needed := chain.Tally(p, func(a chain.Address) bool { return v.isPartner[a] }, len(v.partners))
	return api.ProposalInfo{Proposal: *p, Status: p.StatusAt(v.time), Counted: counted, Needed: needed}
}

// partners is GET /v1/partners.
func (s *Server) partners(w http.ResponseWriter, r *http.Request) error {
	v, err := s.governanceView()
	if err != nil {
		return err
	}
	out := api.Partners{
		Height: v.height, Version: uint32(s.l.RulesAt(v.height + 1).Version),
		Partners: v.partners, Proposals: []api.ProposalInfo{},
	}
	err = s.l.Proposals(func(p *chain.Proposal) error {
		if info := v.info(p); info.Status == "open" {
			out.Proposals = append(out.Proposals, info)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// proposalStatuses are the values ?status= may take.
var proposalStatuses = map[string]bool{"open": true, "executed": true, "failed": true, "expired": true}

// proposals is GET /v1/governance/proposals[?status=S].
func (s *Server) proposals(w http.ResponseWriter, r *http.Request) error {
	want := r.URL.Query().Get("status")
	if want != "" && !proposalStatuses[want] {
		return fmt.Errorf("%w: status=%q: want open, executed, failed or expired", ErrBadRequest, want)
	}
	v, err := s.governanceView()
	if err != nil {
		return err
	}
	out := api.Proposals{Height: v.height, Proposals: []api.ProposalInfo{}}
	err = s.l.Proposals(func(p *chain.Proposal) error {
		if info := v.info(p); want == "" || info.Status == want {
			out.Proposals = append(out.Proposals, info)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// proposal is GET /v1/governance/proposals/{id}: 404 for an id no proposal has.
func (s *Server) proposal(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil || id == 0 {
		return fmt.Errorf("%w: proposal %q: want an id from 1", ErrBadRequest, r.PathValue("id"))
	}
	v, err := s.governanceView()
	if err != nil {
		return err
	}
	p, err := s.l.Proposal(id)
	if errors.Is(err, chain.ErrUnknownProposal) {
		return fmt.Errorf("%w: no proposal %d", ErrNotFound, id)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, v.info(p))
}

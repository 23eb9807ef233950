package httpapi

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
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
	err := s.l.Partners(func(p chain.PartnerInfo) error {
		v.partners = append(v.partners, api.PartnerInfo{Address: p.Address, Name: p.Name, Programs: []string{}})
		v.isPartner[p.Address] = true
		return nil
	})
	return v, err
}

// addPrograms lists each partner's programs, for GET /v1/partners alone: counting approvals
// needs only who the partners are.
func (s *Server) addPrograms(v *governanceView) error {
	index := make(map[chain.Address]int, len(v.partners))
	for i, p := range v.partners {
		index[p.Address] = i
	}
	return s.l.Programs(func(p *chain.Program) error {
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
	if err := s.addPrograms(v); err != nil {
		return err
	}
	out := api.Partners{
		Height: v.height, Version: uint32(s.l.RulesAt(v.height + 1).Version),
		Partners: v.partners, Proposals: []api.ProposalInfo{},
	}
	first, err := s.firstUnexpired(v.time)
	if err != nil {
		return err
	}
	err = s.l.ProposalsFrom(first, func(p *chain.Proposal) error {
		if info := v.info(p); info.Status == "open" {
			if len(out.Proposals) == api.MaxProposalsPage {
				out.OpenTruncated = true
				return ledger.ErrStop
			}
			out.Proposals = append(out.Proposals, info)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// firstUnexpired is the lowest proposal id whose deadline is not before time t (the last id
// plus one if there is none). Ids are given in block order and every deadline is its block
// time plus genesis's one proposal_seconds, so deadlines never decrease with the id and a
// binary search finds it in a few reads, however many proposals expired before. (A version
// that lets proposal_seconds change at an activation must revisit this.)
func (s *Server) firstUnexpired(t uint64) (uint64, error) {
	last, err := s.l.LastProposalID()
	if err != nil {
		return 0, err
	}
	var searchErr error
	i := sort.Search(int(min(last, math.MaxInt32)), func(i int) bool {
		p, err := s.l.Proposal(uint64(i) + 1)
		if err != nil {
			searchErr = err
			return true
		}
		return p.Deadline >= t
	})
	return uint64(i) + 1, searchErr
}

// proposalStatuses are the values ?status= may take.
var proposalStatuses = map[string]bool{"open": true, "executed": true, "failed": true, "expired": true}

// maxProposalsScanned bounds the records one page reads while it filters by status.
const maxProposalsScanned = 10 * api.MaxProposalsPage

// proposals is GET /v1/governance/proposals[?status=S][&from=ID][&limit=N].
func (s *Server) proposals(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	want := q.Get("status")
	if want != "" && !proposalStatuses[want] {
		return fmt.Errorf("%w: status=%q: want open, executed, failed or expired", ErrBadRequest, want)
	}
	from, limit := uint64(1), api.MaxProposalsPage
	if v := q.Get("from"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 {
			return fmt.Errorf("%w: from=%q: want a proposal id from 1", ErrBadRequest, v)
		}
		from = n
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > api.MaxProposalsPage {
			return fmt.Errorf("%w: limit=%q: want 1 to %d", ErrBadRequest, v, api.MaxProposalsPage)
		}
		limit = n
	}
	v, err := s.governanceView()
	if err != nil {
		return err
	}
	if want == "open" {
		// Nothing before the first proposal not past its deadline is open.
		first, err := s.firstUnexpired(v.time)
		if err != nil {
			return err
		}
		from = max(from, first)
	}
	out := api.Proposals{Height: v.height, Proposals: []api.ProposalInfo{}}
	scanned := 0
	err = s.l.ProposalsFrom(from, func(p *chain.Proposal) error {
		if len(out.Proposals) == limit || scanned == maxProposalsScanned {
			out.Next = p.ID
			return ledger.ErrStop
		}
		scanned++
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

package httpapi

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
)

// validators is GET /v1/validators[?height=H]: the set at a height, the changes scheduled
// after the head, and the epochs, all from the ledger's one schedule (RulesAt).
func (s *Server) validators(w http.ResponseWriter, r *http.Request) error {
	head := s.l.Head().Height
	at := head + 1
	if v := r.URL.Query().Get("height"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 || n > head+1 {
			return fmt.Errorf("%w: height=%q: want a block height from 1 to %d (the next block)", ErrBadRequest, v, head+1)
		}
		at = n
	}
	rules, acts := s.l.RulesAt(at), s.l.Activations()
	out := api.Validators{
		Head: head, Height: at, Version: uint32(rules.Version),
		Set:       validatorSet(rules, epochStart(acts, at)),
		Scheduled: []api.ValidatorSet{},
		Epochs:    []api.ValidatorEpoch{epoch(s.l.RulesAt(0), 0)},
	}
	for _, a := range acts {
		out.Epochs = append(out.Epochs, epoch(&a.Rules, a.Height))
		if a.Height > head+1 {
			out.Scheduled = append(out.Scheduled, validatorSet(&a.Rules, a.Height))
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// epochStart is the height from which the set in force at h has been: the last activation
// at or below h, or 0 (genesis).
func epochStart(acts []chain.Activation, h uint64) uint64 {
	from := uint64(0)
	for _, a := range acts {
		if a.Height <= h {
			from = a.Height
		}
	}
	return from
}

func setHash(r *chain.Rules) chain.Hash {
	if r.Version < chain.Version3 {
		return chain.Hash{}
	}
	return chain.ValidatorSetHash(r.Validators)
}

func validatorSet(r *chain.Rules, from uint64) api.ValidatorSet {
	return api.ValidatorSet{From: from, Hash: setHash(r), Validators: slices.Clone(r.Validators)}
}

func epoch(r *chain.Rules, from uint64) api.ValidatorEpoch {
	return api.ValidatorEpoch{From: from, Hash: setHash(r), Count: len(r.Validators)}
}

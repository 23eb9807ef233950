package node

import (
	"log/slog"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/p2p"
)

// The node follows the validator set the chain decides (docs/adr/0003-consensus.md,
// "Validator-set changes") without a restart. After every block it commits, validatorWatch
// reads the ledger's schedule and:
//   - allows the peers of every set in force from the next height on, those scheduled
//     included: a validator added in block H may connect from H, and syncs before it must
//     vote at H+2; one removed is dropped, and disconnected, once no set to come lists it;
//   - keeps the keys rotated away allowed as observers, so the node that ran one (now an
//     observer itself) keeps following the chain;
//   - says so when this node's own key leaves the set (it keeps following as an observer)
//     or joins it.
//
// The engine learns each height's set from NewHeight (driver.start).

// allowList is the part of the p2p host the watch drives.
type allowList interface {
	SetAllowed(validators []chain.Validator, observers []peer.ID) error
}

// schedule is the part of the ledger the watch reads.
type schedule interface {
	RulesAt(height uint64) *chain.Rules
	Activations() []chain.Activation
}

// validatorWatch is owned by the driver's goroutine.
type validatorWatch struct {
	self  chain.Address
	hosts allowList // nil without a network
	log   *slog.Logger

	allowed  []chain.Address // the validators allowed, to notice a change
	observed []chain.Address
	member   bool // this node's key is in the set of the next height
	started  bool
}

// follow brings the allow-list and the node's role up to the schedule after head committed.
func (w *validatorWatch) follow(l schedule, head uint64) {
	next := l.RulesAt(head + 1)
	member := next.ValidatorIndex(w.self) >= 0
	vals, rotated := allowedSets(l, head)
	if w.started && member != w.member {
		switch {
		case member:
			w.log.Info("this node's key joined the validator set: it votes from this height", "height", head+1, "validator", w.self.Hex())
		case slices.ContainsFunc(rotated, func(v chain.Validator) bool { return v.Address == w.self }):
			w.log.Warn("this node's validator key was rotated away: it follows the chain as an observer; run the node that holds the new key to take its place", "height", head+1, "validator", w.self.Hex())
		default:
			w.log.Warn("this node's validator key was removed from the set: the validators disconnect it, and it follows the chain no further unless a node lists its peer id in p2p.observers", "height", head+1, "validator", w.self.Hex())
		}
	}
	w.member, w.started = member, true
	if w.hosts == nil {
		return
	}
	addrs, observed := addresses(vals), addresses(rotated)
	if slices.Equal(addrs, w.allowed) && slices.Equal(observed, w.observed) {
		return
	}
	var observers []peer.ID
	for _, v := range rotated {
		if id, err := p2p.ValidatorPeerID(v); err == nil {
			observers = append(observers, id)
		}
	}
	if err := w.hosts.SetAllowed(vals, observers); err != nil {
		// The sets passed the chain's checks; a host refusing them is a bug to see, not to
		// stop the node for: it keeps the allow-list it had.
		w.log.Error("p2p allow-list not updated", "height", head, "err", err)
		return
	}
	w.allowed, w.observed = addrs, observed
}

func addresses(vs []chain.Validator) []chain.Address {
	out := make([]chain.Address, len(vs))
	for i, v := range vs {
		out[i] = v.Address
	}
	return out
}

// needsPeers reports whether, after the block at head, this node has anyone to talk to: a
// set in force from the next height on lists another node, or this node is not a validator.
func (w *validatorWatch) needsPeers(l schedule, head uint64) bool {
	vals, _ := allowedSets(l, head)
	return len(vals) > 1 || l.RulesAt(head+1).ValidatorIndex(w.self) < 0 || (len(vals) == 1 && vals[0].Address != w.self)
}

// allowedSets are the validators of every set in force from head+1 on (in the order of
// first appearance), and the keys rotated away in any epoch, which stay allowed as observers.
func allowedSets(l schedule, head uint64) (vals, rotated []chain.Validator) {
	seen := map[chain.Address]bool{}
	add := func(vs []chain.Validator) {
		for _, v := range vs {
			if !seen[v.Address] {
				seen[v.Address] = true
				vals = append(vals, v)
			}
		}
	}
	add(l.RulesAt(head + 1).Validators)
	prev := l.RulesAt(0).Validators
	for _, a := range l.Activations() {
		if a.Height > head+1 {
			add(a.Rules.Validators)
		}
		// A rotation keeps the place: same size, one entry's key changed.
		if cur := a.Rules.Validators; len(cur) == len(prev) {
			for i := range cur {
				if cur[i].Address != prev[i].Address {
					rotated = append(rotated, prev[i])
				}
			}
		}
		prev = a.Rules.Validators
	}
	rotated = slices.DeleteFunc(rotated, func(v chain.Validator) bool { return seen[v.Address] })
	return vals, rotated
}

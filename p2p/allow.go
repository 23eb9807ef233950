package p2p

import (
	"context"
	"fmt"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	ma "github.com/multiformats/go-multiaddr"
	"golang.org/x/time/rate"

	"github.com/loyal-ledger/loyal/chain"
)

// The allow-list has a static part, Config.Observers, and a dynamic part: the validator set
// in force and the observers the node adds to it, which New takes from Config.Validators and
// SetAllowed replaces when the chain changes the set.
//
// Each version of the list is an immutable map, published through Host.allowed: readers (the
// gater, the stream handlers, Send, Peers...) load it without locks and see one version
// whole. SetAllowed, serialized by Host.allowMu, builds the next version from validated input,
// carrying over the peerState of every peer that stays, and publishes it under Host.mu, which
// Start and the senders hold too: a keeper is started exactly once for each allowed peer, and
// no message is queued for a peer once it has left.

// allowList is one version of the allow-list. It is never written once published.
type allowList map[peer.ID]*peerState

// allowList returns the allow-list in force.
func (h *Host) allowList() allowList { return *h.allowed.Load() }

// peer returns the state of an allowed peer, nil if the peer is not allowed.
func (h *Host) peer(id peer.ID) *peerState { return h.allowList()[id] }

// allowEntry is one peer of an allow-list that has been checked but is not yet in force.
type allowEntry struct {
	addr      chain.Address
	validator bool
	dial      []ma.Multiaddr // addresses to dial and keep, without their /p2p/ part
}

// planAllowList checks a validator set and lists of observers and returns the peers they
// allow, the host itself left out: every id must name a secp256k1 key, every validator's
// address must be its key's, and its multiaddrs must parse and name no other peer.
func planAllowList(self peer.ID, validators []chain.Validator, observers ...[]peer.ID) (map[peer.ID]*allowEntry, error) {
	plan := make(map[peer.ID]*allowEntry)
	add := func(id peer.ID, validator bool) (*allowEntry, error) {
		if e := plan[id]; e != nil {
			e.validator = e.validator || validator
			return e, nil
		}
		addr, err := AddressOf(id)
		if err != nil {
			return nil, err
		}
		e := &allowEntry{addr: addr, validator: validator}
		plan[id] = e
		return e, nil
	}
	for _, v := range validators {
		id, err := ValidatorPeerID(v)
		if err != nil {
			return nil, fmt.Errorf("p2p: %w", err)
		}
		var dial []ma.Multiaddr
		for _, s := range v.Addrs {
			addr, pid, err := parseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("p2p: validator %q: %w", v.Name, err)
			}
			if pid != "" && pid != id {
				return nil, fmt.Errorf("p2p: validator %q: multiaddr %q names peer %s, its key is %s", v.Name, s, pid, id)
			}
			dial = append(dial, addr)
		}
		if id == self {
			continue
		}
		e, err := add(id, true)
		if err != nil {
			return nil, fmt.Errorf("p2p: validator %q: %w", v.Name, err)
		}
		e.dial = append(e.dial, dial...)
	}
	for _, ids := range observers {
		for _, id := range ids {
			if id == self {
				continue
			}
			if _, err := add(id, false); err != nil {
				return nil, fmt.Errorf("p2p: observer %s: %w", id, err)
			}
		}
	}
	return plan, nil
}

// initialAllowList checks the configured validators, observers and bootstrap peers and
// returns the allow-list New starts with, with the addresses to dial: the validators'
// multiaddrs and the bootstrap list, whose peers must be allowed.
func initialAllowList(self peer.ID, cfg Config) (map[peer.ID]*allowEntry, error) {
	plan, err := planAllowList(self, cfg.Validators, cfg.Observers)
	if err != nil {
		return nil, err
	}
	for _, s := range cfg.Bootstrap {
		addr, id, err := parseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("p2p: bootstrap: %w", err)
		}
		if id == "" {
			return nil, fmt.Errorf("p2p: bootstrap %s: no /p2p/ peer id", s)
		}
		if id == self {
			continue
		}
		e := plan[id]
		if e == nil {
			return nil, fmt.Errorf("p2p: bootstrap %s: %w", s, ErrNotAllowed)
		}
		e.dial = append(e.dial, addr)
	}
	return plan, nil
}

// newAllowList returns the first allow-list, a fresh state for every peer of plan.
func (h *Host) newAllowList(plan map[peer.ID]*allowEntry) *allowList {
	l := make(allowList, len(plan))
	for id, e := range plan {
		l[id] = h.newPeerState(id, e)
	}
	return &l
}

func (h *Host) newPeerState(id peer.ID, e *allowEntry) *peerState {
	ps := &peerState{
		id: id, addr: e.addr,
		inbound: make(map[protocol.ID]*rate.Limiter, len(h.limits)),
		budget:  rate.NewLimiter(rate.Every(h.cfg.ViolationForgive), h.cfg.ViolationBurst),
		kick:    make(chan struct{}, 1),
	}
	ps.ctx, ps.cancel = context.WithCancel(h.ctx)
	ps.validator.Store(e.validator)
	for proto, l := range h.limits {
		ps.inbound[proto] = rate.NewLimiter(rate.Limit(l.Rate), l.Burst)
	}
	return ps
}

// SetAllowed replaces the validators and observers on the allow-list when the chain changes
// its validator set: from its return, the host admits exactly validators, observers and
// Config.Observers, which are always allowed. Config.Validators was the first such set.
//
// Newly allowed peers are admitted at once, and the validators among them with multiaddrs
// are dialed and kept connected (from Start, if the host is not started yet), so that a
// validator joining the set can sync before it must vote. Peers no longer allowed, bootstrap
// peers included, are disconnected and refused in both directions; their keepers stop, what
// is queued for them is dropped, Send and Request to them fail with ErrNotAllowed, and their
// messages still in flight are dropped rather than handled. Peers that stay keep their
// connections and their state (violations, bans, blocks, rate limits); only their role
// follows the new lists, so a validator whose key was rotated away and that is listed in
// observers stays connected, with PeerInfo.Validator false. A peer removed and allowed again
// starts afresh. New multiaddrs of a staying validator are added to those the host knows.
//
// Everything is checked first, as New checks Config.Validators and Config.Observers: on error
// nothing changes. The host's own entry is skipped. After Close it returns ErrClosed. Calls
// are serialized, and the caller may modify the arguments once it returns.
func (h *Host) SetAllowed(validators []chain.Validator, observers []peer.ID) error {
	plan, err := planAllowList(h.ID(), validators, observers, h.cfg.Observers)
	if err != nil {
		return err
	}
	h.allowMu.Lock()
	defer h.allowMu.Unlock()
	if h.isClosed() {
		return ErrClosed
	}
	old := h.allowList()
	next := make(allowList, len(plan))
	var added, removed, changed []*peerState
	for id, e := range plan {
		ps := old[id]
		switch {
		case ps == nil:
			ps = h.newPeerState(id, e)
			added = append(added, ps)
		case ps.validator.Load() != e.validator:
			changed = append(changed, ps)
		}
		next[id] = ps
	}
	for id, ps := range old {
		if next[id] == nil {
			removed = append(removed, ps)
		}
	}

	// Addresses go in before the new peers' keepers start; a staying peer's keeper is told
	// to dial at once if it has a new address and is not connected.
	pstore := h.host.Peerstore()
	var fresh []*peerState
	for id, e := range plan {
		if len(e.dial) == 0 {
			continue
		}
		known := pstore.Addrs(id)
		isNew := slices.ContainsFunc(e.dial, func(a ma.Multiaddr) bool { return !slices.ContainsFunc(known, a.Equal) })
		pstore.AddAddrs(id, e.dial, peerstore.PermanentAddrTTL)
		if isNew && old[id] != nil {
			fresh = append(fresh, old[id])
		}
	}

	h.mu.Lock()
	if h.mu.closed {
		h.mu.Unlock()
		return ErrClosed // the new peers' contexts ended with the host's
	}
	for _, ps := range changed {
		ps.validator.Store(plan[ps.id].validator)
	}
	h.allowed.Store(&next)
	for _, ps := range removed {
		ps.cancel()
		h.dropSendersLocked(ps.id)
	}
	if h.mu.started {
		for _, ps := range added {
			h.startKeeper(ps)
		}
	}
	h.mu.Unlock()

	for _, ps := range fresh {
		if !h.Connected(ps.id) {
			ps.fresh.Store(true)
			ps.wake()
		}
	}
	for _, ps := range removed {
		// The gater refuses the peer from here on; what it had connected closes now.
		_ = h.host.Network().ClosePeer(ps.id)
		pstore.ClearAddrs(ps.id)
		pstore.RemovePeer(ps.id)
		h.log.Info("peer no longer allowed", "remote", ps.id.String(), "address", ps.addr.Hex())
	}
	for _, ps := range added {
		h.log.Info("peer allowed", "remote", ps.id.String(), "address", ps.addr.Hex(), "validator", ps.validator.Load())
	}
	for _, ps := range changed {
		h.log.Info("peer role changed", "remote", ps.id.String(), "address", ps.addr.Hex(), "validator", ps.validator.Load())
	}
	return nil
}

// isClosed reports whether Close has begun.
func (h *Host) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.mu.closed
}

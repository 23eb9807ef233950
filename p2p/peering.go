package p2p

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
)

// watchConnectedness logs peers coming and going and wakes their keepers. It also closes a
// connection to a peer no longer allowed, as SetAllowed can miss one that was being set up.
func (h *Host) watchConnectedness(sub event.Subscription) {
	defer h.wg.Done()
	for e := range sub.Out() {
		ev, ok := e.(event.EvtPeerConnectednessChanged)
		if !ok {
			continue
		}
		ps := h.peer(ev.Peer)
		if ps == nil {
			// A connection the gater admitted just before SetAllowed removed the peer may
			// complete after SetAllowed closed the peer's connections.
			if ev.Connectedness == network.Connected {
				h.log.Debug("closing a connection of a peer no longer allowed", "remote", ev.Peer.String())
				_ = h.host.Network().ClosePeer(ev.Peer)
			}
			continue
		}
		switch ev.Connectedness {
		case network.Connected:
			h.log.Info("peer connected", "remote", ev.Peer.String(), "address", ps.addr.Hex())
		case network.NotConnected:
			h.log.Info("peer disconnected", "remote", ev.Peer.String(), "address", ps.addr.Hex())
		}
		ps.wake()
	}
}

// startKeeper starts the keeper of an allowed peer. h.mu must be held, with the host started
// and not closed: Start starts the keepers of the peers allowed then, SetAllowed those of the
// peers it adds afterwards.
func (h *Host) startKeeper(ps *peerState) {
	h.wg.Add(1)
	h.keepers.Add(1)
	go h.keep(ps)
}

// keep keeps one allowed peer connected while the host runs and the peer stays allowed, as
// long as the peerstore knows an address for it (from the configuration, SetAllowed,
// AddAddrs, or identify after it connected to us). Failed dials, and connections that end
// before lasting ReconnectMax, are followed by exponentially growing waits from ReconnectMin
// to ReconnectMax, with jitter.
func (h *Host) keep(ps *peerState) {
	defer h.wg.Done()
	defer h.keepers.Add(-1)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	// wait blocks until the peer's state may have changed (a kick), d passes (if positive),
	// or the peer leaves the allow-list or the host closes; it reports false for the latter.
	wait := func(d time.Duration) bool {
		if d > 0 {
			timer.Reset(d)
			defer timer.Stop()
		}
		select {
		case <-ps.ctx.Done():
			return false
		case <-ps.kick:
		case <-timer.C:
		}
		return true
	}

	var (
		backoff        time.Duration // the current wait between attempts; 0 = none
		next           time.Time     // no dial before this
		connectedSince time.Time
	)
	for ps.ctx.Err() == nil {
		now := time.Now()
		if h.Connected(ps.id) {
			if connectedSince.IsZero() {
				connectedSince = now
			}
			if !wait(0) {
				return
			}
			continue
		}
		if !connectedSince.IsZero() { // the connection just ended
			if now.Sub(connectedSince) >= h.cfg.ReconnectMax {
				backoff = 0
			}
			next = now.Add(jitter(backoff))
			connectedSince = time.Time{}
		}
		if ps.fresh.Swap(false) {
			backoff, next = 0, now
		}
		if banned, until := ps.banned(now); banned {
			if !wait(until.Sub(now)) {
				return
			}
			continue
		}
		if len(h.host.Peerstore().Addrs(ps.id)) == 0 {
			if !wait(0) {
				return
			}
			continue
		}
		if now.Before(next) {
			if !wait(next.Sub(now)) {
				return
			}
			continue
		}
		err := h.dial(ps.ctx, ps.id)
		if ps.ctx.Err() != nil { // the dial was cut short: the peer left, or the host closes
			return
		}
		backoff = h.nextBackoff(backoff)
		if err == nil && h.Connected(ps.id) {
			connectedSince = time.Now()
			continue
		}
		if err == nil {
			err = errors.New("connection closed at once")
		}
		next = time.Now().Add(jitter(backoff))
		h.stats.dialFailures.Add(1)
		h.log.Debug("dial failed", "remote", ps.id.String(), "err", err, "retry_in", time.Until(next).Round(time.Millisecond))
	}
}

// dial connects to an allowed peer at its known addresses. The swarm's own dial backoff
// (5 s growing to 5 min per address) is cleared first: keep does its own backoff, and the
// swarm's would make a peer that restarted unreachable for minutes.
func (h *Host) dial(ctx context.Context, id peer.ID) error {
	h.stats.dials.Add(1)
	if sw, ok := h.host.Network().(*swarm.Swarm); ok {
		sw.Backoff().Clear(id)
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.DialTimeout)
	defer cancel()
	return h.host.Connect(ctx, peer.AddrInfo{ID: id})
}

func (h *Host) nextBackoff(d time.Duration) time.Duration {
	if d == 0 {
		return h.cfg.ReconnectMin
	}
	return min(2*d, h.cfg.ReconnectMax)
}

// jitter spreads d over [0.75 d, 1.25 d) so that peers do not redial in lockstep.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return d*3/4 + rand.N(d/2+1)
}

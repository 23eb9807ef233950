package p2p

import (
	"time"

	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// gater admits only allowed, unbanned peers, by the allow-list in force when it is asked. It
// checks the peer before dialing it and, for both directions, once the Noise handshake has
// proven who is on the other end (InterceptSecured): an inbound connection cannot be judged
// earlier, as its peer id is not yet known.
type gater Host

var _ connmgr.ConnectionGater = (*gater)(nil)

func (g *gater) admit(id peer.ID) bool {
	ps := (*Host)(g).peer(id)
	if ps == nil || ps.blocked.Load() {
		return false
	}
	banned, _ := ps.banned(time.Now())
	return !banned
}

func (g *gater) InterceptPeerDial(id peer.ID) bool { return g.admit(id) }

func (g *gater) InterceptAddrDial(id peer.ID, _ ma.Multiaddr) bool { return g.admit(id) }

func (g *gater) InterceptAccept(network.ConnMultiaddrs) bool { return true }

func (g *gater) InterceptSecured(dir network.Direction, id peer.ID, addrs network.ConnMultiaddrs) bool {
	if g.admit(id) {
		return true
	}
	g.stats.refused.Add(1)
	g.log.Debug("connection refused", "remote", id.String(), "direction", dir.String(), "addr", addrs.RemoteMultiaddr())
	return false
}

func (g *gater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }

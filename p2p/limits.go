package p2p

import (
	"fmt"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
)

// streamsPerProtocolPeer bounds one peer's inbound streams per Loyal protocol: a one-way
// protocol needs one (two while a sender reopens); sync serves this many requests at once.
const streamsPerProtocolPeer = 8

// newResourceManager returns libp2p's resource manager with fixed limits: libp2p's defaults
// (with its service limits) scaled to l.Memory and l.FD, then capped by l. Unlike
// rcmgr.DefaultLimits.AutoScale, the result does not depend on the machine.
func newResourceManager(l ResourceLimits) (network.ResourceManager, error) {
	scaling := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&scaling)
	base := scaling.Scale(l.Memory, l.FD)

	conns, perPeer, streams := rcmgr.LimitVal(l.Conns), rcmgr.LimitVal(l.ConnsPerPeer), rcmgr.LimitVal(l.StreamsPerPeer)
	ours := rcmgr.ResourceLimits{
		StreamsInbound:  streamsPerProtocolPeer,
		StreamsOutbound: streamsPerProtocolPeer,
		Streams:         2 * streamsPerProtocolPeer,
	}
	partial := rcmgr.PartialLimitConfig{
		System: rcmgr.ResourceLimits{
			Conns: conns, ConnsInbound: conns, ConnsOutbound: conns,
			Memory: rcmgr.LimitVal64(l.Memory),
			FD:     rcmgr.LimitVal(l.FD),
		},
		PeerDefault: rcmgr.ResourceLimits{
			Conns: perPeer, ConnsInbound: perPeer, ConnsOutbound: perPeer,
			Streams: streams, StreamsInbound: streams, StreamsOutbound: streams,
			Memory: rcmgr.LimitVal64(l.PeerMemory),
		},
		ProtocolPeer: map[protocol.ID]rcmgr.ResourceLimits{
			ConsensusProtocol: ours,
			TxsProtocol:       ours,
			SyncProtocol:      ours,
		},
	}
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(partial.Build(base)), rcmgr.WithMetricsDisabled())
	if err != nil {
		return nil, fmt.Errorf("p2p: resource manager: %w", err)
	}
	return rm, nil
}

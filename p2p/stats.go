package p2p

import (
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/prometheus/client_golang/prometheus"
)

// ProtocolStats counts one protocol's traffic since the host was built.
type ProtocolStats struct {
	Received    uint64 // inbound messages (sync: requests served) accepted
	Sent        uint64 // outbound messages written (sync: responses received)
	QueueFull   uint64 // outbound messages dropped because the peer's queue was full
	SendFailed  uint64 // outbound messages dropped because no stream could take them
	RateLimited uint64 // inbound messages dropped over the peer's rate
	Oversize    uint64 // inbound frames above the size limit
	Malformed   uint64 // inbound frames that broke the framing or stalled
}

// Stats counts the host's traffic and enforcement since it was built.
type Stats struct {
	Consensus, Txs, Sync ProtocolStats

	Violations   uint64 // violations charged to peers, penalties included
	Penalties    uint64 // Penalize calls for allowed peers
	Bans         uint64 // peers disconnected and banned
	Refused      uint64 // connections the gater refused after the handshake
	Dials        uint64 // dials made to keep peers connected
	DialFailures uint64
}

type protoStats struct {
	received, sent, queueFull, sendFailed, rateLimited, oversize, malformed atomic.Uint64
}

type stats struct {
	consensus, txs, sync                                      protoStats
	violations, penalties, bans, refused, dials, dialFailures atomic.Uint64
}

func (s *stats) proto(p protocol.ID) *protoStats {
	switch p {
	case ConsensusProtocol:
		return &s.consensus
	case TxsProtocol:
		return &s.txs
	}
	return &s.sync
}

func (s *stats) frameError(p protocol.ID, kind string) {
	if kind == kindOversize {
		s.proto(p).oversize.Add(1)
	} else {
		s.proto(p).malformed.Add(1)
	}
}

func (p *protoStats) snapshot() ProtocolStats {
	return ProtocolStats{
		Received: p.received.Load(), Sent: p.sent.Load(),
		QueueFull: p.queueFull.Load(), SendFailed: p.sendFailed.Load(),
		RateLimited: p.rateLimited.Load(), Oversize: p.oversize.Load(), Malformed: p.malformed.Load(),
	}
}

// Stats returns the host's counters.
func (h *Host) Stats() Stats {
	s := &h.stats
	return Stats{
		Consensus: s.consensus.snapshot(), Txs: s.txs.snapshot(), Sync: s.sync.snapshot(),
		Violations: s.violations.Load(), Penalties: s.penalties.Load(), Bans: s.bans.Load(),
		Refused: s.refused.Load(), Dials: s.dials.Load(), DialFailures: s.dialFailures.Load(),
	}
}

// collector exports Stats as Prometheus counters, plus the numbers of connected and of
// allowed peers.
type collector struct{ h *Host }

var (
	descMessages = prometheus.NewDesc("loyal_p2p_messages_total",
		"Messages by protocol and outcome: received, sent, queue_full, send_failed, rate_limited, oversize, malformed.",
		[]string{"protocol", "outcome"}, nil)
	descEvents = prometheus.NewDesc("loyal_p2p_events_total",
		"Peer events: violation, penalty, ban, refused, dial, dial_failure.",
		[]string{"event"}, nil)
	descPeers   = prometheus.NewDesc("loyal_p2p_peers", "Connected allowed peers.", nil, nil)
	descAllowed = prometheus.NewDesc("loyal_p2p_allowed_peers", "Peers on the allow-list, connected or not.", nil, nil)
	descKeepers = prometheus.NewDesc("loyal_p2p_keepers", "Allowed peers the host keeps connected (one keeper each); it falls when a peer leaves the allow-list.", nil, nil)
)

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descMessages
	ch <- descEvents
	ch <- descPeers
	ch <- descAllowed
	ch <- descKeepers
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.h.Stats()
	for _, p := range []struct {
		name string
		ProtocolStats
	}{{"consensus", s.Consensus}, {"txs", s.Txs}, {"sync", s.Sync}} {
		for _, o := range []struct {
			name string
			v    uint64
		}{
			{"received", p.Received}, {"sent", p.Sent}, {"queue_full", p.QueueFull}, {"send_failed", p.SendFailed},
			{"rate_limited", p.RateLimited}, {"oversize", p.Oversize}, {"malformed", p.Malformed},
		} {
			ch <- prometheus.MustNewConstMetric(descMessages, prometheus.CounterValue, float64(o.v), p.name, o.name)
		}
	}
	for _, e := range []struct {
		name string
		v    uint64
	}{
		{"violation", s.Violations}, {"penalty", s.Penalties}, {"ban", s.Bans},
		{"refused", s.Refused}, {"dial", s.Dials}, {"dial_failure", s.DialFailures},
	} {
		ch <- prometheus.MustNewConstMetric(descEvents, prometheus.CounterValue, float64(e.v), e.name)
	}
	ch <- prometheus.MustNewConstMetric(descPeers, prometheus.GaugeValue, float64(len(c.h.Peers())))
	ch <- prometheus.MustNewConstMetric(descAllowed, prometheus.GaugeValue, float64(len(c.h.allowList())))
	ch <- prometheus.MustNewConstMetric(descKeepers, prometheus.GaugeValue, float64(c.h.keepers.Load()))
}

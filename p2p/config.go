package p2p

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/loyal-ledger/loyal/chain"
)

// The wire protocols. Each is versioned; a change to its framing or meaning gets a new id.
const (
	// ConsensusProtocol carries consensus messages (proposals, votes): one-way, long-lived
	// streams of frames.
	ConsensusProtocol protocol.ID = "/loyal/consensus/1.0.0"
	// TxsProtocol carries transaction gossip (batches of encoded transactions): one-way,
	// long-lived streams of frames.
	TxsProtocol protocol.ID = "/loyal/txs/1.0.0"
	// SyncProtocol is block sync: one request frame, one response frame per stream.
	SyncProtocol protocol.ID = "/loyal/sync/1.0.0"
)

// DefaultListenAddr is where the host listens when Config.ListenAddrs is empty.
const DefaultListenAddr = "/ip4/0.0.0.0/tcp/8646"

// Config configures a Host. The zero value of every field except Key means its default.
type Config struct {
	// Key is the node's secp256k1 key: for a validator its consensus key, whose peer id the
	// other validators admit. Required. New does not keep it beyond building the host.
	Key *ecdsa.PrivateKey

	// ListenAddrs are TCP multiaddrs to listen on, e.g. "/ip4/0.0.0.0/tcp/8646"; default
	// DefaultListenAddr. Tests use "/ip4/127.0.0.1/tcp/0".
	ListenAddrs []string

	// Validators are the validator set the host starts with: genesis's, or the set in force
	// at the height the node resumes from. All are allowed to connect, and those with
	// multiaddrs (chain.Validator.Addrs, with or without a /p2p/ suffix) are dialed and kept
	// connected. The node's own entry is skipped. It is only the initial value of the
	// dynamic part of the allow-list: SetAllowed replaces it when the chain changes the set.
	Validators []chain.Validator
	// Observers are further peers allowed to connect (auditors, read replicas) for the host's
	// whole life, whatever SetAllowed is given. Their ids must name secp256k1 keys, so that
	// they too map to chain addresses.
	Observers []peer.ID
	// Bootstrap are further multiaddrs with a /p2p/ id to dial and keep connected; the id must
	// be a validator or an observer. A bootstrap peer that SetAllowed removes is dropped like
	// any other.
	Bootstrap []string

	// MDNS advertises this host on the LAN with multicast DNS and dials the allowed peers found
	// there (see mdns.go); off by default. Peers not on the allow-list are ignored. If the
	// machine has no multicast interface, the host logs a warning and runs without it.
	MDNS bool
	// MDNSInterval is how often the LAN is queried; default 10 s.
	MDNSInterval time.Duration
	// MDNSService is the DNS-SD service name advertised and queried, "_name._udp"; default
	// DefaultMDNSService. Nodes of one network must agree on it; a network-specific name keeps
	// other networks on the LAN out of the (bounded) answers.
	MDNSService string

	// Consensus, Txs and Sync bound each protocol: message sizes and the per-peer inbound rate.
	Consensus ProtocolLimits
	Txs       ProtocolLimits
	Sync      ProtocolLimits
	// Resources bounds connections, streams and memory through libp2p's resource manager.
	Resources ResourceLimits

	// SendQueue bounds each peer's outbound queue per one-way protocol: messages beyond it are
	// dropped (and counted) instead of blocking the caller. Defaults: 1024 messages, 16 MiB.
	SendQueue      int
	SendQueueBytes int

	// DialTimeout bounds one dial or stream opening; default 10 s.
	DialTimeout time.Duration
	// FrameTimeout bounds reading the body of a frame once its length is read, and writing a
	// frame; default 20 s.
	FrameTimeout time.Duration
	// IdleTimeout is how long an inbound one-way stream may be silent before the host closes
	// it; default 2 min. Senders close their idle streams after half of it.
	IdleTimeout time.Duration
	// RequestTimeout bounds a sync request, as sent by Request and as served by the handler,
	// when the context has no earlier deadline; default 30 s.
	RequestTimeout time.Duration

	// ReconnectMin and ReconnectMax bound the exponential backoff (with jitter) between dials
	// of a peer the host keeps connected; defaults 500 ms and 1 min. A connection that lasted
	// ReconnectMax resets the backoff.
	ReconnectMin time.Duration
	ReconnectMax time.Duration

	// ViolationBurst is how many violations (oversize or malformed frame, stalled frame, rate
	// limit exceeded, Penalize) a peer may commit before it is disconnected and banned; one is
	// forgiven every ViolationForgive. Defaults: 20 and 10 s.
	ViolationBurst   int
	ViolationForgive time.Duration
	// BanDuration is how long a disconnected violator is refused; default 1 min.
	BanDuration time.Duration

	// Logger receives the host's logs; default discards them.
	Logger *slog.Logger
	// Registerer, if set, receives the host's metrics (see Stats) as Prometheus counters.
	Registerer prometheus.Registerer
}

// ProtocolLimits bounds one protocol.
type ProtocolLimits struct {
	// MaxMessage is the largest message accepted or sent, in bytes (for sync: the request).
	MaxMessage int
	// MaxResponse is the largest sync response, in bytes; sync only.
	MaxResponse int
	// Rate and Burst form the token bucket of messages (sync: requests) accepted per second
	// from one peer; over it, a message is dropped and counts as a violation.
	Rate  float64
	Burst int
}

// ResourceLimits are the fixed limits given to libp2p's resource manager.
type ResourceLimits struct {
	// Conns bounds all connections (default 128); ConnsPerPeer those to one peer (default 8,
	// as libp2p may dial several addresses of a peer at once).
	Conns        int
	ConnsPerPeer int
	// StreamsPerPeer bounds the open streams with one peer, both directions (default 64).
	StreamsPerPeer int
	// Memory bounds the memory libp2p reserves in all (default 512 MiB) and for one peer
	// (PeerMemory, default 96 MiB). Muxer windows count against it.
	Memory     int64
	PeerMemory int64
	// FD bounds file descriptors (default 512).
	FD int
}

// Defaults for the protocol limits.
var (
	DefaultConsensusLimits = ProtocolLimits{MaxMessage: 1 << 20, Rate: 300, Burst: 600}
	DefaultTxsLimits       = ProtocolLimits{MaxMessage: 1 << 20, Rate: 50, Burst: 100}
	DefaultSyncLimits      = ProtocolLimits{MaxMessage: 1 << 10, MaxResponse: 16 << 20, Rate: 20, Burst: 40}
	DefaultResourceLimits  = ResourceLimits{Conns: 128, ConnsPerPeer: 8, StreamsPerPeer: 64, Memory: 512 << 20, PeerMemory: 96 << 20, FD: 512}
)

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func (l ProtocolLimits) withDefaults(def ProtocolLimits) ProtocolLimits {
	return ProtocolLimits{
		MaxMessage:  orDefault(l.MaxMessage, def.MaxMessage),
		MaxResponse: orDefault(l.MaxResponse, def.MaxResponse),
		Rate:        orDefault(l.Rate, def.Rate),
		Burst:       orDefault(l.Burst, def.Burst),
	}
}

func (l ResourceLimits) withDefaults() ResourceLimits {
	d := DefaultResourceLimits
	return ResourceLimits{
		Conns:          orDefault(l.Conns, d.Conns),
		ConnsPerPeer:   orDefault(l.ConnsPerPeer, d.ConnsPerPeer),
		StreamsPerPeer: orDefault(l.StreamsPerPeer, d.StreamsPerPeer),
		Memory:         orDefault(l.Memory, d.Memory),
		PeerMemory:     orDefault(l.PeerMemory, d.PeerMemory),
		FD:             orDefault(l.FD, d.FD),
	}
}

// withDefaults returns c with every zero field replaced by its default.
func (c Config) withDefaults() Config {
	if len(c.ListenAddrs) == 0 {
		c.ListenAddrs = []string{DefaultListenAddr}
	}
	c.Consensus = c.Consensus.withDefaults(DefaultConsensusLimits)
	c.Txs = c.Txs.withDefaults(DefaultTxsLimits)
	c.Sync = c.Sync.withDefaults(DefaultSyncLimits)
	c.Resources = c.Resources.withDefaults()
	c.SendQueue = orDefault(c.SendQueue, 1024)
	c.SendQueueBytes = orDefault(c.SendQueueBytes, 16<<20)
	c.DialTimeout = orDefault(c.DialTimeout, 10*time.Second)
	c.FrameTimeout = orDefault(c.FrameTimeout, 20*time.Second)
	c.IdleTimeout = orDefault(c.IdleTimeout, 2*time.Minute)
	c.RequestTimeout = orDefault(c.RequestTimeout, 30*time.Second)
	c.ReconnectMin = orDefault(c.ReconnectMin, 500*time.Millisecond)
	c.ReconnectMax = orDefault(c.ReconnectMax, time.Minute)
	c.ViolationBurst = orDefault(c.ViolationBurst, 20)
	c.ViolationForgive = orDefault(c.ViolationForgive, 10*time.Second)
	c.BanDuration = orDefault(c.BanDuration, time.Minute)
	c.MDNSInterval = orDefault(c.MDNSInterval, DefaultMDNSInterval)
	c.MDNSService = orDefault(c.MDNSService, DefaultMDNSService)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// validate reports every bad field of a defaulted config.
func (c Config) validate() error {
	var errs []error
	if c.Key == nil {
		errs = append(errs, errors.New("key is required"))
	}
	for _, l := range []struct {
		name string
		ProtocolLimits
	}{{"consensus", c.Consensus}, {"txs", c.Txs}, {"sync", c.Sync}} {
		if l.MaxMessage < 0 || l.MaxResponse < 0 || l.Rate < 0 || l.Burst < 0 {
			errs = append(errs, fmt.Errorf("%s limits are negative", l.name))
		}
	}
	if c.Sync.MaxResponse+1 >= maxFrame || c.Consensus.MaxMessage >= maxFrame || c.Txs.MaxMessage >= maxFrame || c.Sync.MaxMessage >= maxFrame {
		errs = append(errs, fmt.Errorf("a message limit is at or above the %d-byte frame cap", maxFrame))
	}
	if c.SendQueue < 0 || c.SendQueueBytes < 0 {
		errs = append(errs, errors.New("send queue bounds are negative"))
	}
	if c.ReconnectMin > c.ReconnectMax {
		errs = append(errs, errors.New("reconnect_min is above reconnect_max"))
	}
	if !validMDNSService(c.MDNSService) {
		errs = append(errs, fmt.Errorf("mdns service %q: want _name._udp or _name._tcp (name: a-z, 0-9, -)", c.MDNSService))
	}
	for _, d := range []time.Duration{c.DialTimeout, c.FrameTimeout, c.IdleTimeout, c.RequestTimeout, c.ReconnectMin, c.ViolationForgive, c.BanDuration, c.MDNSInterval} {
		if d < 0 {
			errs = append(errs, errors.New("a timeout is negative"))
			break
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("p2p: config: %w", err)
	}
	return nil
}

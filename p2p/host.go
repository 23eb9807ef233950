package p2p

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/host/peerstore/pstoremem"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
	"golang.org/x/time/rate"

	"github.com/loyal-ledger/loyal/chain"
)

// Handler receives one message of a one-way protocol from an allowed peer: its id, the chain
// address its key derives, and the message, which the handler owns.
//
// It is called from the reader goroutine of the stream the message came on: calls for one
// peer and protocol are sequential and in the sender's order, calls for different peers or
// protocols are concurrent. While it runs, that stream is not read, so a slow handler slows
// only that peer (whose sender then drops). It must not block for long, and must not call
// Close.
type Handler func(from peer.ID, addr chain.Address, msg []byte)

// RequestHandler serves one sync request from an allowed peer and returns the response (at
// most Config.Sync.MaxResponse bytes) or an error, whose text is sent to the peer (see
// RemoteError). ctx ends at the request timeout, on Close, or when SetAllowed removes the
// peer. Calls are concurrent.
type RequestHandler func(ctx context.Context, from peer.ID, addr chain.Address, req []byte) ([]byte, error)

// Host is a node's libp2p host: its identity, its allow-list and the Loyal protocols.
// All methods are safe for concurrent use.
type Host struct {
	cfg    Config
	log    *slog.Logger
	host   host.Host
	self   chain.Address
	limits map[protocol.ID]ProtocolLimits

	// allowed is the allow-list in force (see allow.go): read without locks, replaced whole
	// by SetAllowed under allowMu, then h.mu.
	allowed atomic.Pointer[allowList]
	allowMu sync.Mutex
	// keepers counts the running keepers (peering.go): the loyal_p2p_keepers gauge.
	keepers atomic.Int32

	consensus atomic.Pointer[Handler]
	txs       atomic.Pointer[Handler]
	sync      atomic.Pointer[RequestHandler]

	stats     stats
	collector *collector

	ctx    context.Context // ends on Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine the host starts, or lends to libp2p

	mu struct {
		sync.Mutex
		started, closed bool
		sub             event.Subscription
		senders         map[senderKey]*sender
	}
	closeOnce sync.Once
	closeErr  error
}

// peerState is what the host keeps about one allowed peer. It lives as long as the peer stays
// on the allow-list: SetAllowed carries it over to the next version of the list, and a peer
// removed and allowed again gets a new one.
type peerState struct {
	id   peer.ID
	addr chain.Address
	// validator is whether the peer is in the validator set, rather than an observer. It is
	// written by SetAllowed only.
	validator atomic.Bool
	// ctx ends when the peer leaves the allow-list or the host closes: its keeper and senders
	// exit, and what it still sends is dropped. cancel is called by SetAllowed only.
	ctx    context.Context
	cancel context.CancelFunc
	// inbound holds the peer's token bucket per protocol. rate.Limiter is safe for
	// concurrent use, and the map is never written after construction.
	inbound map[protocol.ID]*rate.Limiter
	// budget allows ViolationBurst violations, forgiving one per ViolationForgive.
	budget      *rate.Limiter
	violations  atomic.Uint64
	bannedUntil atomic.Int64 // UnixNano; 0 if never banned
	// blocked is set by Block: the operator (or a test's partition) cut this peer off.
	blocked atomic.Bool
	// kick wakes the peer's keeper (see peering.go); fresh tells it to dial at once.
	kick  chan struct{}
	fresh atomic.Bool
}

func (ps *peerState) wake() {
	select {
	case ps.kick <- struct{}{}:
	default:
	}
}

// banned reports whether the peer is banned now, and until when.
func (ps *peerState) banned(now time.Time) (bool, time.Time) {
	until := time.Unix(0, ps.bannedUntil.Load())
	return now.Before(until), until
}

// PeerInfo describes a connected allowed peer.
type PeerInfo struct {
	ID         peer.ID
	Address    chain.Address // derived from the peer's key
	Validator  bool          // in the validator set in force (see SetAllowed), not an observer
	Addrs      []ma.Multiaddr
	Violations uint64 // violations counted against it since it was allowed (New or SetAllowed)
}

// New builds the host: it derives the identity from cfg.Key, builds the allow-list and starts
// listening. Connections from allowed peers are accepted from here on, but nothing is dialed
// before Start. Close releases it, whether or not it was started.
func New(cfg Config) (*Host, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	sk, err := IdentityKey(cfg.Key)
	if err != nil {
		return nil, err
	}
	cfg.Key = nil // libp2p holds the identity key from here on
	selfID, err := peer.IDFromPrivateKey(sk)
	if err != nil {
		return nil, fmt.Errorf("p2p: %w", err)
	}
	h := &Host{
		cfg: cfg,
		log: cfg.Logger.With("peer", selfID.String()),
		limits: map[protocol.ID]ProtocolLimits{
			ConsensusProtocol: cfg.Consensus,
			TxsProtocol:       cfg.Txs,
			SyncProtocol:      cfg.Sync,
		},
	}
	if h.self, err = AddressOf(selfID); err != nil {
		return nil, err
	}
	plan, err := initialAllowList(selfID, cfg)
	if err != nil {
		return nil, err
	}
	listen, err := parseListenAddrs(cfg.ListenAddrs)
	if err != nil {
		return nil, err
	}
	rm, err := newResourceManager(cfg.Resources)
	if err != nil {
		return nil, err
	}
	ps, err := pstoremem.NewPeerstore()
	if err != nil {
		_ = rm.Close()
		return nil, fmt.Errorf("p2p: peerstore: %w", err)
	}
	// The gater reads the allow-list as soon as libp2p listens; the peers' contexts derive
	// from the host's.
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.allowed.Store(h.newAllowList(plan))
	lh, err := libp2p.New(
		libp2p.Identity(sk),
		libp2p.ListenAddrs(listen...),
		// Without reuseport, two nodes configured with one port fail instead of silently
		// sharing it (the kernel would balance connections between them).
		libp2p.Transport(tcp.NewTCPTransport, tcp.DisableReuseport()),
		libp2p.Security(noise.ID, noise.New),
		libp2p.ConnectionGater((*gater)(h)),
		libp2p.ResourceManager(rm),
		libp2p.Peerstore(ps),
		libp2p.ConnectionManager(connmgr.NullConnMgr{}), // the allow-list bounds the peers
		libp2p.DisableRelay(),
		libp2p.DisableMetrics(),
		libp2p.WithDialTimeout(cfg.DialTimeout),
		libp2p.UserAgent("loyal"),
	)
	if err != nil {
		// libp2p does not release what it built when listening fails; close what we can.
		h.cancel()
		_ = rm.Close()
		_ = ps.Close()
		return nil, fmt.Errorf("p2p: libp2p host: %w", err)
	}
	h.host = lh
	for id, e := range plan {
		lh.Peerstore().AddAddrs(id, e.dial, peerstore.PermanentAddrTTL)
	}
	h.mu.senders = make(map[senderKey]*sender)
	lh.SetStreamHandler(ConsensusProtocol, h.serveOneWay)
	lh.SetStreamHandler(TxsProtocol, h.serveOneWay)
	lh.SetStreamHandler(SyncProtocol, h.serveSync)
	if cfg.Registerer != nil {
		h.collector = &collector{h: h}
		if err := cfg.Registerer.Register(h.collector); err != nil {
			_ = h.Close()
			return nil, fmt.Errorf("p2p: metrics: %w", err)
		}
	}
	h.log.Info("p2p host listening", "address", h.self.Hex(), "addrs", lh.Addrs(), "allowed", len(h.allowList()))
	return h, nil
}

// parseAddr splits a multiaddr into its transport part and its /p2p/ id, if any.
func parseAddr(s string) (ma.Multiaddr, peer.ID, error) {
	m, err := ma.NewMultiaddr(s)
	if err != nil {
		return nil, "", fmt.Errorf("multiaddr %q: %w", s, err)
	}
	addr, id := peer.SplitAddr(m)
	if addr == nil {
		return nil, "", fmt.Errorf("multiaddr %q: no transport address", s)
	}
	return addr, id, nil
}

// parseListenAddrs accepts IP (or DNS) + TCP multiaddrs only: the host has no other
// transport, and libp2p leaks goroutines when it fails to listen.
func parseListenAddrs(ss []string) ([]ma.Multiaddr, error) {
	var out []ma.Multiaddr
	for _, s := range ss {
		m, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("p2p: listen address %q: %w", s, err)
		}
		ps := m.Protocols()
		if len(ps) != 2 || ps[1].Code != ma.P_TCP ||
			!slices.Contains([]int{ma.P_IP4, ma.P_IP6, ma.P_DNS, ma.P_DNS4, ma.P_DNS6}, ps[0].Code) {
			return nil, fmt.Errorf("p2p: listen address %q: want /ip4|ip6|dns/<host>/tcp/<port>", s)
		}
		out = append(out, m)
	}
	return out, nil
}

// Start starts keeping the configured peers connected, and LAN discovery if Config.MDNS. It
// returns at once.
func (h *Host) Start() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.mu.closed:
		return ErrClosed
	case h.mu.started:
		return ErrStarted
	}
	sub, err := h.host.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged))
	if err != nil {
		return fmt.Errorf("p2p: subscribe: %w", err)
	}
	h.mu.started, h.mu.sub = true, sub
	h.wg.Add(1)
	go h.watchConnectedness(sub)
	for _, ps := range h.allowList() {
		h.startKeeper(ps)
	}
	if h.cfg.MDNS {
		h.startMDNS() // never fails Start: without multicast the node runs on its configured peers
	}
	return nil
}

// Close disconnects every peer, stops every goroutine the host started and waits for them,
// including running handlers. It is idempotent.
func (h *Host) Close() error {
	h.closeOnce.Do(func() {
		h.mu.Lock()
		h.mu.closed = true
		sub := h.mu.sub
		h.mu.Unlock()
		h.cancel()
		if sub != nil {
			_ = sub.Close()
		}
		// Closing the libp2p host closes every connection, which ends the streams our
		// goroutines read.
		h.closeErr = h.host.Close()
		h.wg.Wait()
		if h.collector != nil {
			h.cfg.Registerer.Unregister(h.collector)
		}
		h.log.Info("p2p host closed")
	})
	return h.closeErr
}

// enter registers a goroutine lent to the host by libp2p (a stream handler) with the wait
// group, unless the host is closing. A true result must be paired with h.wg.Done.
func (h *Host) enter() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.mu.closed {
		return false
	}
	h.wg.Add(1)
	return true
}

// ID returns the host's peer id: PeerIDOf its public key.
func (h *Host) ID() peer.ID { return h.host.ID() }

// Address returns the chain address of the host's key.
func (h *Host) Address() chain.Address { return h.self }

// Addrs returns the host's listen addresses, each with its /p2p/ id: what other nodes put in
// their bootstrap lists or genesis.
func (h *Host) Addrs() []ma.Multiaddr {
	addrs, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: h.host.ID(), Addrs: h.host.Addrs()})
	if err != nil { // only for an empty id, which a host never has
		panic(err)
	}
	return addrs
}

// AddAddrs records more addresses of an allowed peer (found by the node, e.g. by LAN
// discovery or a changed genesis entry) and has the host dial it soon if it is not connected.
func (h *Host) AddAddrs(id peer.ID, addrs []ma.Multiaddr) error {
	ps := h.peer(id)
	if ps == nil {
		return ErrNotAllowed
	}
	h.host.Peerstore().AddAddrs(id, addrs, peerstore.PermanentAddrTTL)
	ps.fresh.Store(true)
	ps.wake()
	return nil
}

// Allowed reports whether a peer is on the allow-list, and its chain address if so.
func (h *Host) Allowed(id peer.ID) (chain.Address, bool) {
	if ps := h.peer(id); ps != nil {
		return ps.addr, true
	}
	return chain.Address{}, false
}

// PeerIDFor returns the peer id of the allowed peer whose key has the given chain address.
func (h *Host) PeerIDFor(addr chain.Address) (peer.ID, bool) {
	for id, ps := range h.allowList() {
		if ps.addr == addr {
			return id, true
		}
	}
	return "", false
}

// Connected reports whether the host has a connection to the peer.
func (h *Host) Connected(id peer.ID) bool {
	return h.host.Network().Connectedness(id) == network.Connected
}

// Peers lists the connected allowed peers, ordered by id.
func (h *Host) Peers() []PeerInfo {
	var out []PeerInfo
	allowed := h.allowList()
	for _, id := range h.host.Network().Peers() {
		ps := allowed[id]
		if ps == nil {
			continue
		}
		info := PeerInfo{ID: id, Address: ps.addr, Validator: ps.validator.Load(), Violations: ps.violations.Load()}
		for _, c := range h.host.Network().ConnsToPeer(id) {
			info.Addrs = append(info.Addrs, c.RemoteMultiaddr())
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b PeerInfo) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return out
}

// Penalize charges a peer with a violation for content the node found invalid (a message
// that does not decode, a bad signature, a block that fails validation): like the violations
// the host detects itself, enough of them disconnect and ban the peer. reason is logged.
func (h *Host) Penalize(id peer.ID, reason string) {
	ps := h.peer(id)
	if ps == nil {
		return
	}
	h.stats.penalties.Add(1)
	h.charge(ps, kindPenalty, errors.New(reason))
}

// charge counts a violation against a peer, and disconnects and bans it when its budget is
// spent. It reports whether the peer is banned: its streams should then stop being read.
func (h *Host) charge(ps *peerState, kind string, cause error) (banned bool) {
	h.stats.violations.Add(1)
	n := ps.violations.Add(1)
	if ps.ctx.Err() != nil {
		// The peer left the allow-list (or the host is closing) while this was in flight:
		// its streams are dropped anyway, and its id may be allowed again under a new state
		// whose connections a ban here must not close.
		return true
	}
	now := time.Now()
	prev := ps.bannedUntil.Load()
	if now.UnixNano() < prev {
		return true // charged for what was in flight when the ban began
	}
	if ps.budget.Allow() {
		h.log.Debug("peer violation", "remote", ps.id.String(), "kind", kind, "err", cause, "count", n)
		return false
	}
	until := now.Add(h.cfg.BanDuration)
	if !ps.bannedUntil.CompareAndSwap(prev, until.UnixNano()) {
		return true // banned meanwhile by another stream
	}
	h.stats.bans.Add(1)
	h.log.Warn("peer banned", "remote", ps.id.String(), "address", ps.addr.Hex(), "kind", kind, "err", cause, "violations", n, "until", until)
	_ = h.host.Network().ClosePeer(ps.id)
	ps.wake()
	return true
}

// Block cuts an allowed peer off until Unblock: its connections are closed and no new one
// is admitted in either direction. It is how an operator isolates a misbehaving partner's
// node at once, and how tests partition a network.
func (h *Host) Block(id peer.ID) {
	ps := h.peer(id)
	if ps == nil {
		return
	}
	ps.blocked.Store(true)
	_ = h.host.Network().ClosePeer(id)
}

// Unblock admits a blocked peer again and has the host reconnect to it soon.
func (h *Host) Unblock(id peer.ID) {
	ps := h.peer(id)
	if ps == nil {
		return
	}
	ps.blocked.Store(false)
	ps.fresh.Store(true)
	ps.wake()
}

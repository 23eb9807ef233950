package p2p

import (
	"errors"
	"fmt"
	"log"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/mdns"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/miekg/dns"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// LAN discovery (Config.MDNS) follows the shape of libp2p's mDNS spec
// (github.com/libp2p/specs, discovery/mdns.md): each node serves a DNS-SD service whose
// instance name is a random label, with one TXT string "dnsaddr=<multiaddr>/p2p/<id>" per
// address, and queries the service periodically. libp2p's own implementation needs a module
// this build cannot fetch, so github.com/hashicorp/mdns serves and queries the records.
//
// Anyone on the LAN can answer, so answers only ever name addresses: a peer is dialed only if
// it is on the allow-list, and the Noise handshake proves its id whatever address it is
// reached at.

const (
	// DefaultMDNSService is the DNS-SD service of Config.MDNSService. It is not libp2p's
	// "_p2p._udp": other libp2p applications on the LAN (IPFS...) would fill the bounded
	// answers with peers the host never dials.
	DefaultMDNSService = "_loyal-p2p._udp"
	// DefaultMDNSInterval is the default Config.MDNSInterval.
	DefaultMDNSInterval = 10 * time.Second
)

const (
	dnsaddrPrefix = "dnsaddr="
	mdnsDomain    = "local."
	// mdnsMaxEntries bounds the services one query reads: it is the capacity of the channel
	// the library delivers them on, and the library drops what does not fit.
	mdnsMaxEntries = 64
	// mdnsMaxTXT bounds the TXT strings read from one service.
	mdnsMaxTXT = 16
	// mdnsMaxAddrs bounds the addresses advertised, and those learned for one peer per query.
	// Eight TXT strings keep an answer well under the 1,500 bytes RFC 6762 recommends.
	mdnsMaxAddrs = 8
	// mdnsMaxQuery bounds how long one query collects answers. The library returns only then,
	// even when the host closes, so it is also what discovery adds to Close.
	mdnsMaxQuery = time.Second
	// mdnsAddrPeriods is how many query periods a learned address lives without being
	// announced again.
	mdnsAddrPeriods = 3
)

var mdnsServiceRE = regexp.MustCompile(`^_[a-z0-9][a-z0-9-]{0,61}\._(udp|tcp)$`)

// validMDNSService reports whether s is a DNS-SD service name the host can advertise.
func validMDNSService(s string) bool { return mdnsServiceRE.MatchString(s) }

// mdnsDiscovery advertises the host on the LAN and dials the allowed peers it finds there.
type mdnsDiscovery struct {
	h        *Host
	log      *slog.Logger
	stdlog   *log.Logger // for the library, which logs with the standard logger: into log, at debug
	service  string
	instance string // random, as the spec says: a peer id may exceed the 63 bytes of a label
	interval time.Duration
	timeout  time.Duration // of one query
	ttl      time.Duration // of a learned address
	zone     mdnsZone
	txt      []string // what zone advertises; read and written by the discovery goroutine only
}

// mdnsZone serves the host's records to the mDNS server, which reads them from its own
// goroutines. They are swapped when the host's addresses change (a listener on 0.0.0.0
// follows the machine's interfaces); nil serves nothing.
type mdnsZone struct {
	svc atomic.Pointer[mdns.MDNSService]
}

func (z *mdnsZone) Records(q dns.Question) []dns.RR {
	if svc := z.svc.Load(); svc != nil {
		return svc.Records(q)
	}
	return nil
}

func newMDNSDiscovery(h *Host) *mdnsDiscovery {
	lg := h.log.With("component", "mdns")
	timeout := min(h.cfg.MDNSInterval, mdnsMaxQuery)
	return &mdnsDiscovery{
		h:        h,
		log:      lg,
		stdlog:   slog.NewLogLogger(lg.Handler(), slog.LevelDebug),
		service:  h.cfg.MDNSService,
		instance: randomLabel(32),
		interval: h.cfg.MDNSInterval,
		timeout:  timeout,
		ttl:      mdnsAddrPeriods * (h.cfg.MDNSInterval + timeout),
	}
}

// startMDNS starts LAN discovery, owned by the host's wait group and ended by Close. Without a
// multicast interface it only logs a warning: the node still runs, with the peers it is
// configured with. Start calls it.
func (h *Host) startMDNS() {
	d := newMDNSDiscovery(h)
	d.advertise()
	srv, err := mdns.NewServer(&mdns.Config{Zone: &d.zone, Logger: d.stdlog})
	if err != nil {
		d.log.Warn("mDNS discovery unavailable, running without it", "err", err)
		return
	}
	d.log.Info("mDNS discovery on", "service", d.service, "instance", d.instance)
	h.wg.Add(1)
	go d.run(srv)
}

// run queries the LAN every interval (with jitter, so that nodes do not query in lockstep)
// until the host closes, then stops the server.
func (d *mdnsDiscovery) run(srv *mdns.Server) {
	defer d.h.wg.Done()
	defer func() { _ = srv.Shutdown() }()
	timer := time.NewTimer(0)
	defer timer.Stop()
	failing := false
	for {
		select {
		case <-d.h.ctx.Done():
			return
		case <-timer.C:
		}
		d.advertise()
		entries, err := d.query()
		if d.h.ctx.Err() != nil {
			return
		}
		switch {
		case err != nil && !failing:
			d.log.Warn("mDNS query failed", "err", err)
			failing = true
		case err != nil:
			d.log.Debug("mDNS query failed", "err", err)
		default:
			failing = false
			for id, addrs := range d.found(entries) {
				d.learn(id, addrs)
			}
		}
		timer.Reset(jitter(d.interval))
	}
}

// query asks the LAN for the service and returns the TXT strings of the instances that
// answered within the timeout, at most mdnsMaxEntries of them.
func (d *mdnsDiscovery) query() ([][]string, error) {
	ch := make(chan *mdns.ServiceEntry, mdnsMaxEntries)
	err := mdns.QueryContext(d.h.ctx, &mdns.QueryParam{
		Service: d.service,
		Domain:  mdnsDomain,
		Timeout: d.timeout,
		Entries: ch,
		Logger:  d.stdlog,
	})
	// The library sends only while QueryContext runs, and never blocks on the channel.
	close(ch)
	var out [][]string
	for e := range ch {
		out = append(out, e.InfoFields)
	}
	return out, err
}

// advertise updates the records the server answers with to the host's current addresses.
func (d *mdnsDiscovery) advertise() {
	addrs, err := d.h.host.Network().InterfaceListenAddresses()
	if err != nil {
		d.log.Debug("mDNS: listen addresses", "err", err)
		return
	}
	addrs = advertisable(addrs)
	full, err := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: d.h.ID(), Addrs: addrs})
	if err != nil { // only for an empty id
		d.log.Debug("mDNS: listen addresses", "err", err)
		return
	}
	txt := make([]string, 0, len(full)) // never nil: d.txt is nil only before the first call
	for _, a := range full {
		txt = append(txt, dnsaddrPrefix+a.String())
	}
	if d.txt != nil && slices.Equal(txt, d.txt) {
		return
	}
	var ips []net.IP
	for _, a := range addrs {
		ap, _ := ipTCP(a) // advertisable addresses are IP + TCP
		if ip := net.IP(ap.Addr().AsSlice()); !slices.ContainsFunc(ips, ip.Equal) {
			ips = append(ips, ip)
		}
	}
	d.txt = txt
	if len(addrs) == 0 {
		d.zone.svc.Store(nil)
		d.log.Info("mDNS: no LAN address to advertise")
		return
	}
	// DNS-SD wants a host name, a port and the host's IPs too (a querier reports only
	// instances that have them); peers read only the TXT strings. The host name is the
	// random instance label, as with libp2p, so that nodes on one machine do not share it.
	port, _ := ipTCP(addrs[0])
	svc, err := mdns.NewMDNSService(d.instance, d.service, mdnsDomain, d.instance+"."+mdnsDomain, int(port.Port()), ips, txt)
	if err != nil {
		d.zone.svc.Store(nil)
		d.log.Warn("mDNS: cannot advertise", "err", err)
		return
	}
	d.zone.svc.Store(svc)
	d.log.Debug("mDNS advertising", "txt", txt)
}

// advertisable picks the addresses worth announcing: IP + TCP, not unspecified nor IPv6
// link-local (which needs a zone that a multiaddr cannot carry to another machine), and not
// loopback unless there is nothing else (then the nodes of one machine, as in a local test
// network, still find each other). At most mdnsMaxAddrs.
func advertisable(addrs []ma.Multiaddr) []ma.Multiaddr {
	var lan, loopback []ma.Multiaddr
	for _, a := range addrs {
		ap, ok := ipTCP(a)
		if !ok || !dialableIP(ap.Addr()) {
			continue
		}
		if ap.Addr().IsLoopback() {
			loopback = append(loopback, a)
		} else {
			lan = append(lan, a)
		}
	}
	if len(lan) == 0 {
		lan = loopback
	}
	return lan[:min(len(lan), mdnsMaxAddrs)]
}

// found extracts, from the TXT strings of the instances one query returned, the addresses of
// the allowed peers other than the host. The strings come from anyone on the LAN: malformed
// ones are skipped, and at most mdnsMaxEntries instances, mdnsMaxTXT strings per instance and
// mdnsMaxAddrs addresses per peer are read.
func (d *mdnsDiscovery) found(entries [][]string) map[peer.ID][]ma.Multiaddr {
	out := make(map[peer.ID][]ma.Multiaddr)
	for _, txts := range entries[:min(len(entries), mdnsMaxEntries)] {
		for _, txt := range txts[:min(len(txts), mdnsMaxTXT)] {
			addr, id, err := parseDNSAddr(txt)
			switch {
			case err != nil:
				d.log.Debug("mDNS: skipped record", "err", err)
				continue
			case id == d.h.ID():
				continue
			case d.h.peer(id) == nil:
				d.log.Debug("mDNS: skipped peer not allowed", "remote", id.String())
				continue
			}
			if have := out[id]; len(have) < mdnsMaxAddrs && !slices.ContainsFunc(have, addr.Equal) {
				out[id] = append(have, addr)
			}
		}
	}
	return out
}

// learn adds the addresses of an allowed peer found on the LAN to the peerstore. Unlike
// AddAddrs it does not keep them for ever but for a few query periods: what the LAN claims
// must be repeated to last, which bounds what a hostile answer can add. The peer's keeper
// dials at once only for an address it did not know, so that an unreachable peer that keeps
// announcing itself does not defeat the reconnect backoff.
func (d *mdnsDiscovery) learn(id peer.ID, addrs []ma.Multiaddr) {
	ps := d.h.peer(id)
	if ps == nil {
		return
	}
	pstore := d.h.host.Peerstore()
	known := pstore.Addrs(id)
	isNew := slices.ContainsFunc(addrs, func(a ma.Multiaddr) bool { return !slices.ContainsFunc(known, a.Equal) })
	pstore.AddAddrs(id, addrs, d.ttl)
	if isNew && !d.h.Connected(id) {
		d.log.Debug("mDNS: found peer", "remote", id.String(), "addrs", addrs)
		ps.fresh.Store(true)
		ps.wake()
	}
}

// parseDNSAddr parses one TXT string, "dnsaddr=<multiaddr>/p2p/<id>", into an IP + TCP address
// the host can dial and the peer id.
func parseDNSAddr(txt string) (addr ma.Multiaddr, id peer.ID, err error) {
	// A multiaddr parser bug must not let a packet from the LAN crash the node.
	defer func() {
		if r := recover(); r != nil {
			addr, id, err = nil, "", fmt.Errorf("multiaddr parser panicked: %v", r)
		}
	}()
	s, ok := strings.CutPrefix(txt, dnsaddrPrefix)
	if !ok {
		return nil, "", errors.New("no " + dnsaddrPrefix + " prefix")
	}
	if len(s) > 255 { // longer than a TXT string can be
		return nil, "", errors.New("too long")
	}
	m, err := ma.NewMultiaddr(s)
	if err != nil {
		return nil, "", err
	}
	addr, id = peer.SplitAddr(m)
	if id == "" {
		return nil, "", fmt.Errorf("%s: no /p2p/ id", m)
	}
	ap, ok := ipTCP(addr)
	if !ok || !dialableIP(ap.Addr()) || ap.Port() == 0 {
		return nil, "", fmt.Errorf("%s: not a dialable IP + TCP address", m)
	}
	return addr, id, nil
}

// ipTCP returns the IP and port of a /ip4|ip6/<ip>/tcp/<port> address; ok is false for any
// other shape (DNS names, which would send the host to a resolver, other transports, suffixes).
func ipTCP(m ma.Multiaddr) (netip.AddrPort, bool) {
	ps := m.Protocols()
	if len(ps) != 2 || (ps[0].Code != ma.P_IP4 && ps[0].Code != ma.P_IP6) || ps[1].Code != ma.P_TCP {
		return netip.AddrPort{}, false
	}
	na, err := manet.ToNetAddr(m)
	if err != nil {
		return netip.AddrPort{}, false
	}
	tcp, ok := na.(*net.TCPAddr)
	if !ok {
		return netip.AddrPort{}, false
	}
	return tcp.AddrPort(), true
}

// dialableIP reports whether an address can be dialed as announced: not unspecified, not
// multicast, and not IPv6 link-local, which needs a zone.
func dialableIP(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsValid() && !ip.IsUnspecified() && !ip.IsMulticast() && !(ip.Is6() && ip.IsLinkLocalUnicast())
}

// randomLabel returns n random lower-case letters and digits: a DNS label that reveals nothing.
func randomLabel(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return string(b)
}

package httpapi

import (
	"container/list"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/net/netutil"
	"golang.org/x/time/rate"
)

// Listen opens the API's TCP listener on addr. With maxConns > 0 it accepts at most that many
// connections at once: further clients wait in the kernel's backlog until one closes (the
// server's read, write and idle timeouts bound how long a connection holds its slot). With
// perClient > 0 a client (not a loopback one) holding that many open connections has its next
// ones closed at once, so that no one client takes every slot. When
// the bound address is not a loopback one, Listen logs a loud warning: the API then answers
// whoever can reach it, and belongs behind a TLS proxy and a firewall.
func Listen(addr string, maxConns, perClient int, log *slog.Logger) (net.Listener, error) {
	if log == nil {
		log = slog.Default()
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if tcp, ok := l.Addr().(*net.TCPAddr); ok && !tcp.IP.IsLoopback() {
		log.Warn("API LISTENS BEYOND LOOPBACK: anyone who can reach this address can read the chain and submit transactions, "+
			"in clear text; unless you mean it, set api.listen to 127.0.0.1:PORT, else put the API behind a TLS proxy and a firewall",
			"listen", l.Addr().String(), "max_conns", maxConns)
	}
	if perClient > 0 {
		l = newClientCapListener(l, perClient)
	}
	if maxConns > 0 {
		l = netutil.LimitListener(l, maxConns)
	}
	return l, nil
}

// MaxWriteClients bounds the clients whose write rate the server remembers. Past it, the one
// seen least recently is forgotten (a client idle long enough to have its full burst back is
// forgotten anyway: it loses nothing).
const MaxWriteClients = 10_000

// writeLimiter is a token bucket per client address for the write endpoints, with bounded
// memory: a map and an LRU list of at most max clients.
type writeLimiter struct {
	limit rate.Limit
	burst int
	idle  time.Duration // how long a bucket takes to refill: an idle client's entry is dropped
	max   int
	now   func() time.Time

	mu      sync.Mutex
	lru     *list.List // of *writeClient, most recent first
	clients map[string]*list.Element
}

type writeClient struct {
	key  string
	lim  *rate.Limiter
	seen time.Time
}

func newWriteLimiter(perSecond float64, burst int) *writeLimiter {
	idle := time.Duration(float64(burst) / perSecond * float64(time.Second))
	return &writeLimiter{
		limit: rate.Limit(perSecond), burst: burst, idle: max(idle, time.Second), max: MaxWriteClients, now: time.Now,
		lru: list.New(), clients: make(map[string]*list.Element),
	}
}

// allow takes one token of key's bucket, or says how long until one is there.
func (w *writeLimiter) allow(key string) (bool, time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.now()
	var c *writeClient
	if e, ok := w.clients[key]; ok {
		w.lru.MoveToFront(e)
		c = e.Value.(*writeClient)
	} else {
		for back := w.lru.Back(); back != nil; back = w.lru.Back() {
			old := back.Value.(*writeClient)
			if w.lru.Len() < w.max && now.Sub(old.seen) < w.idle {
				break
			}
			w.lru.Remove(back)
			delete(w.clients, old.key)
		}
		c = &writeClient{key: key, lim: rate.NewLimiter(w.limit, w.burst)}
		w.clients[key] = w.lru.PushFront(c)
	}
	c.seen = now
	r := c.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Second
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// clientKey is whom a request's writes are counted against: its peer's IP, an IPv6 peer's /64
// (one host usually holds a whole /64), "" for a loopback peer, which is not limited (the
// node's own host: its operator, or a local proxy that must limit its clients itself).
// Forwarding headers are not trusted.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	switch {
	case ip == nil:
		return host
	case ip.IsLoopback():
		return ""
	}
	return ipClient(ip)
}

// ipClient names the client at ip: its IPv4 address, or its IPv6 /64.
func ipClient(ip net.IP) string {
	if v4 := ip.To4(); v4 != nil {
		return v4.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// limitWrites guards a write endpoint with the per-client rate: over it, 429 rate_limited
// with Retry-After. Requests bearing the node's merchant token (the operator's own shop) and
// loopback clients are not limited.
func (s *Server) limitWrites(h func(w http.ResponseWriter, r *http.Request) error) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.writes == nil {
			return h(w, r)
		}
		key := clientKey(r)
		if key == "" || s.authorized(r) {
			return h(w, r)
		}
		if ok, wait := s.writes.allow(key); !ok {
			secs := int(math.Ceil(wait.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
			return fmt.Errorf("%w: retry in %ds (at most %g writes a second, bursts of %d)", ErrRateLimited, max(secs, 1), float64(s.writes.limit), s.writes.burst)
		}
		return h(w, r)
	}
}

// LimitWrites limits each client (by address) to perSecond writes (POST /v1/txs and the
// merchant endpoints) on average, in bursts of up to burst (at least 1); perSecond <= 0 removes the limit.
// It returns s, to chain before Handler.
func (s *Server) LimitWrites(perSecond float64, burst int) *Server {
	if perSecond <= 0 {
		s.writes = nil
		return s
	}
	s.writes = newWriteLimiter(perSecond, max(burst, 1))
	return s
}

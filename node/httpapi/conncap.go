package httpapi

import (
	"net"
	"sync"
)

// clientCapListener refuses a client's connection while that client (by IP address, an IPv6
// one by its /64) already holds max open ones, so that one client cannot take every slot of
// the connection cap by holding idle keep-alive connections. Loopback clients are not capped,
// as they are not rate-limited: a local tool, or a reverse proxy on the same host, which then
// caps its own clients.
type clientCapListener struct {
	net.Listener
	max int

	mu   sync.Mutex
	open map[string]int
}

// newClientCapListener caps each client of l at max open connections (max > 0).
func newClientCapListener(l net.Listener, max int) *clientCapListener {
	return &clientCapListener{Listener: l, max: max, open: map[string]int{}}
}

// Accept returns the next connection of a client under its cap, closing the others.
func (l *clientCapListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := remoteIP(c.RemoteAddr())
		if ip == nil || ip.IsLoopback() {
			return c, nil
		}
		key := ipClient(ip)
		l.mu.Lock()
		over := l.open[key] >= l.max
		if !over {
			l.open[key]++
		}
		l.mu.Unlock()
		if over {
			c.Close()
			continue
		}
		return &cappedConn{Conn: c, release: func() { l.release(key) }}, nil
	}
}

func (l *clientCapListener) release(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key]--; l.open[key] <= 0 {
		delete(l.open, key)
	}
}

// cappedConn gives its slot back once, when closed.
type cappedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *cappedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

func remoteIP(a net.Addr) net.IP {
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.IP
	}
	return nil
}

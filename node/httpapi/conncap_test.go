package httpapi

import (
	"net"
	"testing"
)

// fakeListener hands out the connections queued in it: a unit test of the cap's bookkeeping
// needs clients at addresses a test cannot dial from.
type fakeListener struct {
	net.Listener
	conns chan net.Conn
}

func (l *fakeListener) Accept() (net.Conn, error) {
	c, ok := <-l.conns
	if !ok {
		return nil, net.ErrClosed
	}
	return c, nil
}

type fakeConn struct {
	net.Conn
	from   net.Addr
	closed bool
}

func (c *fakeConn) RemoteAddr() net.Addr { return c.from }
func (c *fakeConn) Close() error         { c.closed = true; return nil }

// One client holds at most max connections; its next ones are closed at once until one of
// its own closes. Other clients, a client's IPv6 neighbours outside its /64, and loopback are
// counted apart.
func TestClientCapListener(t *testing.T) {
	conns := make(chan net.Conn, 16)
	l := newClientCapListener(&fakeListener{conns: conns}, 2)
	at := func(ip string) *fakeConn { return &fakeConn{from: &net.TCPAddr{IP: net.ParseIP(ip), Port: 1}} }
	a1, a2, a3, b1 := at("10.0.0.1"), at("10.0.0.1"), at("10.0.0.1"), at("10.0.0.2")
	v6a, v6b, v6c := at("2001:db8::1"), at("2001:db8::2"), at("2001:db8:0:1::1")
	lo1, lo2, lo3 := at("127.0.0.1"), at("127.0.0.1"), at("127.0.0.1")
	for _, c := range []net.Conn{a1, a2, a3, b1, v6a, v6b, v6c, lo1, lo2, lo3} {
		conns <- c
	}
	close(conns)
	var got []net.Conn
	for {
		c, err := l.Accept()
		if err != nil {
			break
		}
		got = append(got, c)
	}
	// a3 is refused (10.0.0.1 holds two); the v6 /64 holds two, v6c is another /64.
	if len(got) != 9 || !a3.closed || a1.closed || a2.closed {
		t.Fatalf("accepted %d, a3 closed %v, a1 %v, a2 %v; want 9 accepted and only a3 closed", len(got), a3.closed, a1.closed, a2.closed)
	}
	if l.open["10.0.0.1"] != 2 || l.open["10.0.0.2"] != 1 || l.open["2001:db8::/64"] != 2 || l.open["2001:db8:0:1::/64"] != 1 || len(l.open) != 4 {
		t.Fatalf("open = %v", l.open)
	}
	// Closing gives the slot back, once.
	got[0].Close()
	got[0].Close()
	if l.open["10.0.0.1"] != 1 {
		t.Fatalf("after a close: open = %v", l.open)
	}
}

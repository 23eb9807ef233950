package p2p_test

import (
	"errors"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/p2p"
)

// A validator's multiaddrs must be dialable by the others: a host and a TCP port, and a
// /p2p/ id, if any, of its own key.
func TestCheckValidatorAddrs(t *testing.T) {
	k, other := newKey(t), newKey(t)
	v := validatorOf("acme-node", k)
	id, err := p2p.ValidatorPeerID(v)
	if err != nil {
		t.Fatal(err)
	}
	otherID, err := p2p.ValidatorPeerID(validatorOf("other", other))
	if err != nil {
		t.Fatal(err)
	}
	for _, ok := range [][]string{
		nil,
		{"/ip4/203.0.113.7/tcp/8646"},
		{"/ip6/2001:db8::7/tcp/8646", "/dns/node.acme.example/tcp/8646"},
		{"/ip4/127.0.0.1/tcp/9001/p2p/" + id.String()},
	} {
		v.Addrs = ok
		if err := p2p.CheckValidatorAddrs(v); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, c := range []struct{ addr, want string }{
		{"/ip4/203.0.113.7/udp/8646", `p2p: bad multiaddr: validator "acme-node": "/ip4/203.0.113.7/udp/8646": want /ip4|ip6|dns/<host>/tcp/<port>[/p2p/<id>]`},
		{"/ip4/0.0.0.0/tcp/8646", `p2p: bad multiaddr: validator "acme-node": "/ip4/0.0.0.0/tcp/8646" is where a host listens, not where others reach it: give its reachable address`},
		{"/ip6/::/tcp/8646", `p2p: bad multiaddr: validator "acme-node": "/ip6/::/tcp/8646" is where a host listens, not where others reach it: give its reachable address`},
		{"/ip4/203.0.113.7/tcp/0", `p2p: bad multiaddr: validator "acme-node": "/ip4/203.0.113.7/tcp/0": port 0 cannot be dialed`},
		{"/ip4/203.0.113.7/tcp/8646/p2p/" + otherID.String(), `p2p: bad multiaddr: validator "acme-node": "/ip4/203.0.113.7/tcp/8646/p2p/` + otherID.String() + `" names peer ` + otherID.String() + `, its key is peer ` + id.String()},
		{"203.0.113.7:8646", `p2p: bad multiaddr: validator "acme-node": multiaddr "203.0.113.7:8646": failed to parse multiaddr "203.0.113.7:8646": must begin with /`},
	} {
		v.Addrs = []string{c.addr}
		if err := p2p.CheckValidatorAddrs(v); !errors.Is(err, p2p.ErrBadAddr) || err.Error() != c.want {
			t.Errorf("%s:\n got %v\nwant %s", c.addr, err, c.want)
		}
	}
	v.Addrs = nil
	v.Address[0] ^= 1
	if err := p2p.CheckValidatorAddrs(v); !errors.Is(err, p2p.ErrAddressMismatch) {
		t.Errorf("an address not of its key: got %v", err)
	}
}

func TestCheckListenAddrs(t *testing.T) {
	if err := p2p.CheckListenAddrs([]string{"/ip4/0.0.0.0/tcp/8646", "/ip6/::/tcp/8646"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		addrs []string
		want  string
	}{
		{nil, "p2p: bad multiaddr: no listen address"},
		{[]string{"/ip4/0.0.0.0/udp/8646/quic-v1"}, `p2p: bad multiaddr: listen address "/ip4/0.0.0.0/udp/8646/quic-v1": want /ip4|ip6|dns/<host>/tcp/<port>`},
		{[]string{"0.0.0.0:8646"}, `p2p: bad multiaddr: listen address "0.0.0.0:8646": want /ip4|ip6|dns/<host>/tcp/<port>`},
	} {
		if err := p2p.CheckListenAddrs(c.addrs); !errors.Is(err, p2p.ErrBadAddr) || err.Error() != c.want {
			t.Errorf("%q:\n got %v\nwant %s", c.addrs, err, c.want)
		}
	}
}

// Every multiaddr the chain accepts in a validator entry (its own deterministic reading,
// chain.ValidatorKey) is one this package dials: the allow-list never refuses a set the
// chain decided.
func TestChainAcceptedAddrsAreDialable(t *testing.T) {
	k := newKey(t)
	accepted := 0
	for _, s := range []string{
		"/ip4/203.0.113.7/tcp/8646", "/ip4/127.0.0.1/tcp/1", "/ip6/2001:db8::7/tcp/65535", "/ip6/::ffff:203.0.113.7/tcp/8646",
		"/dns/node.acme.example/tcp/8646", "/dns4/x/tcp/9", "/dns6/a-b.c/tcp/10", "/ip4/0.0.0.0/tcp/8646", "/ip4/1.2.3.4/tcp/0",
	} {
		e := &chain.ValidatorKey{Name: "v", Partner: chain.Address{1}, PubKey: crypto.CompressPubkey(&k.PublicKey), Multiaddrs: []string{s}}
		if e.Check() != nil {
			continue // refused by the chain: nothing to dial
		}
		accepted++
		v, err := e.Validator()
		if err != nil {
			t.Fatal(err)
		}
		if err := p2p.CheckValidatorAddrs(v); err != nil {
			t.Errorf("the chain accepts %q, p2p refuses it: %v", s, err)
		}
	}
	if accepted != 7 { // all but the unspecified address and port 0
		t.Fatalf("the chain accepted %d of the 7 dialable addresses", accepted)
	}
}

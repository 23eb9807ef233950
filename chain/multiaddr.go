package chain

import (
	"net/netip"
	"strconv"
	"strings"
)

// checkDialAddr is the chain's own, deterministic reading of a validator's multiaddr in a
// propose_validator entry (Version3): one of
//
//	/ip4/<address>/tcp/<port>   /ip6/<address>/tcp/<port>   /dns|dns4|dns6/<name>/tcp/<port>
//
// with a specified (not 0.0.0.0 or ::), zone-less address, a DNS name of letters, digits,
// hyphens and dots, and a port from 1 to 65535 in its one decimal form. It is a subset of
// what every node's libp2p reads (p2p.CheckValidatorAddrs): an address the chain accepts
// can always be dialed, so no node's allow-list ever refuses a set the chain decided. A
// /p2p/ suffix is refused: the entry's key names the peer.
func checkDialAddr(s string) error {
	parts := strings.Split(s, "/")
	if len(parts) != 5 || parts[0] != "" || parts[3] != "tcp" {
		return rejectf(ErrMalformed, "multiaddr %q: want /ip4|ip6|dns|dns4|dns6/<host>/tcp/<port>", s)
	}
	proto, host, port := parts[1], parts[2], parts[4]
	switch proto {
	case "ip4", "ip6":
		a, err := netip.ParseAddr(host)
		if err != nil || a.Zone() != "" || (proto == "ip4") != a.Is4() || a.IsUnspecified() || a.String() != host {
			return rejectf(ErrMalformed, "multiaddr %q: %q is not a dialable %s address in its canonical form", s, host, proto)
		}
	case "dns", "dns4", "dns6":
		if !dnsName(host) {
			return rejectf(ErrMalformed, "multiaddr %q: %q is not a DNS name", s, host)
		}
	default:
		return rejectf(ErrMalformed, "multiaddr %q: want /ip4|ip6|dns|dns4|dns6/<host>/tcp/<port>", s)
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 || strconv.FormatUint(n, 10) != port {
		return rejectf(ErrMalformed, "multiaddr %q: port %q, want 1 to 65535", s, port)
	}
	return nil
}

// dnsName reports whether s is a DNS name: dot-separated labels of 1 to 63 letters, digits
// and hyphens, not starting or ending with a hyphen, 253 bytes at most.
func dnsName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

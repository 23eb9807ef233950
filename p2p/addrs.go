package p2p

import (
	"errors"
	"fmt"
	"net"
	"slices"

	ma "github.com/multiformats/go-multiaddr"

	"github.com/loyal-ledger/loyal/chain"
)

// ErrBadAddr marks a multiaddr a host could not listen on, or other hosts could not dial.
var ErrBadAddr = errors.New("p2p: bad multiaddr")

// CheckListenAddrs checks multiaddrs as Config.ListenAddrs must be: an IP address or DNS
// name and a TCP port each, as "/ip4/0.0.0.0/tcp/8646". It lets a tool refuse an address
// before it writes a config that would not start.
func CheckListenAddrs(addrs []string) error {
	if len(addrs) == 0 {
		return fmt.Errorf("%w: no listen address", ErrBadAddr)
	}
	for _, s := range addrs {
		if _, err := parseListenAddrs([]string{s}); err != nil {
			return fmt.Errorf("%w: listen address %q: want /ip4|ip6|dns/<host>/tcp/<port>", ErrBadAddr, s)
		}
	}
	return nil
}

// CheckValidatorAddrs checks a validator's multiaddrs (chain.Validator.Addrs) as the other
// validators will dial them: each an IP address or DNS name and a TCP port, as
// "/ip4/203.0.113.7/tcp/8646", optionally followed by /p2p/ and the validator's own peer id.
// An unspecified address (0.0.0.0, ::) or port 0 is refused: it is where a host listens, not
// where it can be reached. The key must give the validator's address (ValidatorPeerID).
func CheckValidatorAddrs(v chain.Validator) error {
	id, err := ValidatorPeerID(v)
	if err != nil {
		return err
	}
	for _, s := range v.Addrs {
		addr, pid, err := parseAddr(s)
		if err != nil {
			return fmt.Errorf("%w: validator %q: %v", ErrBadAddr, v.Name, err)
		}
		if pid != "" && pid != id {
			return fmt.Errorf("%w: validator %q: %q names peer %s, its key is peer %s", ErrBadAddr, v.Name, s, pid, id)
		}
		if _, err := parseListenAddrs([]string{addr.String()}); err != nil {
			return fmt.Errorf("%w: validator %q: %q: want /ip4|ip6|dns/<host>/tcp/<port>[/p2p/<id>]", ErrBadAddr, v.Name, s)
		}
		if port, err := addr.ValueForProtocol(ma.P_TCP); err != nil || port == "0" {
			return fmt.Errorf("%w: validator %q: %q: port 0 cannot be dialed", ErrBadAddr, v.Name, s)
		}
		if host := addr.Protocols()[0].Code; slices.Contains([]int{ma.P_IP4, ma.P_IP6}, host) {
			if ip, err := addr.ValueForProtocol(host); err == nil && net.ParseIP(ip).IsUnspecified() {
				return fmt.Errorf("%w: validator %q: %q is where a host listens, not where others reach it: give its reachable address", ErrBadAddr, v.Name, s)
			}
		}
	}
	return nil
}

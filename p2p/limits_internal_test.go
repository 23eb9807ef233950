package p2p

import (
	"log/slog"
	"testing"

	ethcrypto "github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
)

func TestResourceManagerHasTheConfiguredLimits(t *testing.T) {
	key, err := ethcrypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{
		Key: key, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, Logger: slog.New(slog.DiscardHandler),
		Resources: ResourceLimits{Conns: 50, ConnsPerPeer: 3, StreamsPerPeer: 20, Memory: 256 << 20, PeerMemory: 32 << 20},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	rm := h.host.Network().ResourceManager()
	limitOf := func(s any) rcmgr.Limit { return s.(rcmgr.ResourceScopeLimiter).Limit() }
	_ = rm.ViewSystem(func(s network.ResourceScope) error {
		l := limitOf(s)
		if l.GetConnTotalLimit() != 50 || l.GetMemoryLimit() != 256<<20 || l.GetFDLimit() != 512 {
			t.Errorf("system limit: conns %d, memory %d, fd %d", l.GetConnTotalLimit(), l.GetMemoryLimit(), l.GetFDLimit())
		}
		return nil
	})
	_ = rm.ViewPeer(peer.ID("someone"), func(s network.PeerScope) error {
		l := limitOf(s)
		if l.GetConnTotalLimit() != 3 || l.GetStreamTotalLimit() != 20 || l.GetMemoryLimit() != 32<<20 {
			t.Errorf("peer limit: conns %d, streams %d, memory %d", l.GetConnTotalLimit(), l.GetStreamTotalLimit(), l.GetMemoryLimit())
		}
		return nil
	})
}

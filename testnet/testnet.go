package testnet

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node"
	"github.com/loyal-ledger/loyal/wallet"
)

// DemoPassphrase protects the demo keys; it is written to PassphraseFile. Demo keys guard
// nothing of value: never use them on a real network.
const DemoPassphrase = "loyal-demo"

// Files and names of a testnet directory.
const (
	KeystoreDir    = "keystore"
	PassphraseFile = "passphrase"
	// FirstAPIPort is node 0's API port (the wallet's default); node i listens on +i.
	FirstAPIPort = 8645
	// P2PPortOffset: node i's p2p port is its API port plus this.
	P2PPortOffset = 1000
)

// DemoCustomers are the customer keys a testnet creates besides its merchants (one per
// node, at least two).
var DemoCustomers = []string{"alice", "bob"}

// Options describe a local testnet.
type Options struct {
	Nodes   int
	Dir     string
	Backend string // pebble (default) or badger
	// APIPort is node 0's API port; 0 means FirstAPIPort. Node i uses APIPort+i.
	APIPort int
}

// Network is a generated testnet directory.
type Network struct {
	Dir   string
	Homes []string
}

// Home is node i's home directory.
func Home(dir string, i int) string { return filepath.Join(dir, "node"+strconv.Itoa(i)) }

// Prepare generates the testnet in o.Dir if it holds none yet (demo keystore with a merchant
// key per node and the demo customers, a passphrase file, and each node's home), or reuses the
// one there, so running the same command again resumes the same chain.
func Prepare(o Options) (*Network, error) {
	if o.Nodes < 1 {
		return nil, fmt.Errorf("testnet: --nodes must be at least 1, not %d", o.Nodes)
	}
	if o.Nodes > chain.MaxValidators {
		return nil, fmt.Errorf("testnet: at most %d nodes", chain.MaxValidators)
	}
	nw := &Network{Dir: o.Dir}
	for i := 0; i < o.Nodes; i++ {
		nw.Homes = append(nw.Homes, Home(o.Dir, i))
	}
	if _, err := os.Stat(filepath.Join(nw.Homes[0], node.ConfigFile)); err == nil {
		return nw, nil // already generated: resume it
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("testnet: %w", err)
	}
	if err := os.WriteFile(filepath.Join(o.Dir, PassphraseFile), []byte(DemoPassphrase+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("testnet: %w", err)
	}
	ks, err := wallet.OpenKeystore(filepath.Join(o.Dir, KeystoreDir), true)
	if err != nil {
		return nil, err
	}
	// A merchant per node, and at least two, so that the demo can exchange between programs.
	var partners []chain.Partner
	for i := 0; i < max(o.Nodes, 2); i++ {
		name := "merchant" + strconv.Itoa(i+1)
		k, err := ks.New(name, DemoPassphrase)
		if err != nil {
			return nil, err
		}
		partners = append(partners, chain.Partner{Name: name, Address: k.Address})
	}
	for _, name := range DemoCustomers {
		if _, err := ks.New(name, DemoPassphrase); err != nil {
			return nil, err
		}
	}
	port := o.APIPort
	if port == 0 {
		port = FirstAPIPort
	}
	// One consensus key per node; all nodes share one genesis naming every node a validator,
	// reachable on loopback at its p2p port.
	var (
		keys []*ecdsa.PrivateKey
		vals []chain.Validator
	)
	for i := 0; i < o.Nodes; i++ {
		k, err := crypto.GenerateKey()
		if err != nil {
			return nil, err
		}
		keys = append(keys, k)
		vals = append(vals, chain.Validator{
			Name: "node" + strconv.Itoa(i), Partner: partners[i].Address,
			PubKey: crypto.CompressPubkey(&k.PublicKey), Address: crypto.PubkeyToAddress(k.PublicKey),
			Addrs: []string{fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port+P2PPortOffset+i)},
		})
	}
	g := &chain.Genesis{
		ChainID: 1337, Network: "loyal-testnet", GenesisTime: uint64(time.Now().Unix()),
		Partners: partners, Validators: vals, Params: chain.DefaultParams(),
		ProtocolVersion: chain.LatestVersion, Governance: chain.DefaultGovernance(),
	}
	for i, home := range nw.Homes {
		cfg := node.DefaultConfig()
		cfg.Moniker = "node" + strconv.Itoa(i)
		if o.Backend != "" {
			cfg.Backend = o.Backend
		}
		cfg.API.Listen = net.JoinHostPort("127.0.0.1", strconv.Itoa(port+i))
		cfg.P2P.Listen = []string{fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port+P2PPortOffset+i)}
		if _, err := node.WriteHome(home, cfg, g, keys[i]); err != nil {
			return nil, err
		}
	}
	return nw, nil
}

// Run opens every node of the network and runs them until ctx ends. ready, if not nil, is
// called with each node's API URL once all are listening.
func (nw *Network) Run(ctx context.Context, logOut io.Writer, ready func(urls []string)) error {
	var nodes []*node.Node
	defer func() {
		for _, n := range nodes {
			n.Close()
		}
	}()
	var urls []string
	for i, home := range nw.Homes {
		cfg, err := node.LoadConfig(home)
		if err != nil {
			return err
		}
		log := node.NewLogger(cfg.Log, logOut).With("node", i)
		n, err := node.Open(home, log)
		if err != nil {
			return err
		}
		nodes = append(nodes, n)
		urls = append(urls, n.APIURL())
	}
	if ready != nil {
		ready(urls)
	}
	errs := make(chan error, len(nodes))
	for _, n := range nodes {
		go func() { errs <- n.Run(ctx) }()
	}
	var first error
	for range nodes {
		if err := <-errs; err != nil && first == nil {
			first = err
			slog.Error("node failed", "err", err)
		}
	}
	return first
}

package testnet

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node"
	"github.com/loyal-ledger/loyal/p2p"
	"github.com/loyal-ledger/loyal/wallet"
)

// ClusterProgram is the loyalty program a cluster's genesis creates, owned by Cluster.Owner.
const ClusterProgram = "ACME"

// ClusterOptions describe an in-process cluster.
type ClusterOptions struct {
	Validators int // at least 1
	Observers  int // nodes that follow the chain without voting, allowed by every node's config
	// Joiners are nodes with the chain's genesis that no node allows: they reach the network
	// only once the chain makes them validators (ADR 0003), as a new partner's node would.
	// They come after the observers.
	Joiners int
	Dir     string // where the nodes' homes go (a test's t.TempDir()); required
	Backend string // pebble (default) or badger
	// Byzantine makes the validator of that index misbehave as it says: the byzantine mode.
	Byzantine map[int]Byzantine
	// Log receives every node's log lines (each with its "node" index); nil discards them.
	Log *slog.Logger
	// Partners is how many partners genesis lists besides the owner (Cluster.Partners holds
	// their keys); they own no programs.
	Partners int
}

// Cluster is a Loyal network inside one process, for Go tests: validators and observers with
// real libp2p on 127.0.0.1 (ephemeral ports) and real stores on disk, each serving its HTTP
// API. Nodes 0…Validators−1 are the validators, then the observers, then the joiners. A test can stop and
// restart nodes, partition the network and heal it, and make validators byzantine
// (ClusterOptions.Byzantine). Close it when done.
type Cluster struct {
	// Genesis is the cluster's genesis; Owner is its one partner's key, which owns
	// ClusterProgram and may earn in it.
	Genesis *chain.Genesis
	Owner   *ecdsa.PrivateKey
	// Partners are the keys of the partners genesis lists: Owner first, then
	// ClusterOptions.Partners more, named "partner1", "partner2", ...
	Partners []*ecdsa.PrivateKey

	opts  ClusterOptions
	homes []string
	keys  []*ecdsa.PrivateKey // each node's consensus key
	addrs []chain.Address     // each node's consensus (peer) address

	mu    sync.Mutex
	nodes []*member       // nil while stopped
	cut   map[[2]int]bool // pairs (i < j) cut off from each other by Partition
}

// member is a running node.
type member struct {
	n      *node.Node
	cancel context.CancelFunc
	done   chan error
}

// NewCluster writes every node's home under o.Dir and starts all nodes, connected to each
// other.
func NewCluster(o ClusterOptions) (c *Cluster, err error) {
	if o.Validators < 1 || o.Observers < 0 || o.Joiners < 0 || o.Validators > chain.MaxValidators || o.Partners < 0 || o.Partners >= chain.MaxPartners {
		return nil, fmt.Errorf("testnet: %d validators and %d observers", o.Validators, o.Observers)
	}
	if o.Dir == "" {
		return nil, errors.New("testnet: ClusterOptions.Dir is required")
	}
	for i := range o.Byzantine {
		if i < 0 || i >= o.Validators {
			return nil, fmt.Errorf("testnet: byzantine node %d is not a validator", i)
		}
		if o.Validators == 1 {
			// A lone validator runs no consensus, so its transport is never wrapped.
			return nil, errors.New("testnet: a byzantine validator needs at least two validators")
		}
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	owner, err := crypto.GenerateKey()
	if err != nil {
		return nil, err
	}
	total := o.Validators + o.Observers + o.Joiners
	keys := make([]*ecdsa.PrivateKey, total)
	c = &Cluster{Owner: owner, opts: o, keys: keys, addrs: make([]chain.Address, total), nodes: make([]*member, total), cut: map[[2]int]bool{}}
	var vals []chain.Validator
	var observers []string
	ownerAddr := crypto.PubkeyToAddress(owner.PublicKey)
	for i := range keys {
		if keys[i], err = crypto.GenerateKey(); err != nil {
			return nil, err
		}
		pub := crypto.CompressPubkey(&keys[i].PublicKey)
		c.addrs[i] = crypto.PubkeyToAddress(keys[i].PublicKey)
		if i < o.Validators {
			vals = append(vals, chain.Validator{Name: "v" + strconv.Itoa(i), Partner: ownerAddr, PubKey: pub, Address: c.addrs[i]})
			continue
		}
		if i >= o.Validators+o.Observers {
			continue // a joiner: nobody's config names it
		}
		id, err := p2p.PeerIDOf(pub)
		if err != nil {
			return nil, err
		}
		observers = append(observers, id.String())
	}
	partners := []chain.Partner{{Name: "owner", Address: ownerAddr}}
	c.Partners = []*ecdsa.PrivateKey{owner}
	for i := 1; i <= o.Partners; i++ {
		k, err := crypto.GenerateKey()
		if err != nil {
			return nil, err
		}
		c.Partners = append(c.Partners, k)
		partners = append(partners, chain.Partner{Name: "partner" + strconv.Itoa(i), Address: crypto.PubkeyToAddress(k.PublicKey)})
	}
	c.Genesis = &chain.Genesis{
		ChainID: 77, Network: "cluster", GenesisTime: uint64(time.Now().Unix()) - 10,
		Partners: partners, Validators: vals,
		Params:          chain.DefaultParams(),
		Programs:        []chain.GenesisProgram{{Symbol: ClusterProgram, Name: "Acme", Owner: ownerAddr}},
		ProtocolVersion: chain.LatestVersion, Governance: chain.DefaultGovernance(),
	}
	for i := range keys {
		cfg := node.DefaultConfig()
		cfg.Moniker = "node" + strconv.Itoa(i)
		if o.Backend != "" {
			cfg.Backend = o.Backend
		}
		cfg.API.Listen = "127.0.0.1:0"
		cfg.P2P.Listen = []string{"/ip4/127.0.0.1/tcp/0"}
		cfg.P2P.Observers = observers
		// Loopback delivers in milliseconds: shorter timeouts than a WAN's make the rounds a
		// test waits through (a stopped proposer, a partition) short too.
		cfg.Consensus.TimeoutPropose = node.Duration{Duration: time.Second}
		cfg.Consensus.TimeoutPrevote = node.Duration{Duration: 500 * time.Millisecond}
		cfg.Consensus.TimeoutPrecommit = node.Duration{Duration: 500 * time.Millisecond}
		cfg.Consensus.TimeoutIncrement = node.Duration{Duration: 250 * time.Millisecond}
		home := filepath.Join(o.Dir, "node"+strconv.Itoa(i))
		if _, err := node.WriteHome(home, cfg, c.Genesis, keys[i]); err != nil {
			return nil, err
		}
		c.homes = append(c.homes, home)
	}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	for i := range c.homes {
		if err := c.Start(i); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Len is the number of nodes, validators and observers.
func (c *Cluster) Len() int { return len(c.homes) }

// Home is node i's home directory.
func (c *Cluster) Home(i int) string { return c.homes[i] }

// Address is node i's consensus address (its peer identity).
func (c *Cluster) Address(i int) chain.Address { return c.addrs[i] }

// Node is node i, or nil while it is stopped.
func (c *Cluster) Node(i int) *node.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m := c.nodes[i]; m != nil {
		return m.n
	}
	return nil
}

// URL is node i's API base URL ("" while it is stopped; it changes across a restart).
func (c *Cluster) URL(i int) string {
	if n := c.Node(i); n != nil {
		return n.APIURL()
	}
	return ""
}

// Key is node i's consensus key: what a test proves possession of when it proposes the
// node as a validator (chain.SignPossession).
func (c *Cluster) Key(i int) *ecdsa.PrivateKey { return c.keys[i] }

// Client is a wallet client of node i's API as it listens now.
func (c *Cluster) Client(i int) *wallet.Client { return &wallet.Client{BaseURL: c.URL(i)} }

// Start opens node i from its home (byzantine if ClusterOptions.Byzantine says so: with its
// transport wrapped) and runs it, cut off from the nodes a Partition separates it from, and
// tells it and the other running nodes where each listens.
func (c *Cluster) Start(i int) (err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nodes[i] != nil {
		return fmt.Errorf("testnet: node %d is running", i)
	}
	o := node.Options{Log: c.opts.Log.With("node", i)}
	var byz *byzantine
	if b, ok := c.opts.Byzantine[i]; ok {
		o.WrapTransport = func(t node.Transport) node.Transport {
			byz = newByzantine(t, b, c.keys[i], o.Log)
			return byz
		}
	}
	n, err := node.OpenWith(c.homes[i], o)
	if err != nil {
		return err
	}
	if byz != nil {
		byz.ledger = n.Ledger()
	}
	// Blocked before it runs, so that it never reaches across the partition.
	for j := range c.nodes {
		if j != i && c.cut[pair(i, j)] {
			if err := n.BlockPeer(c.addrs[j]); err != nil {
				n.Close()
				return err
			}
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &member{n: n, cancel: cancel, done: make(chan error, 1)}
	go func() { m.done <- n.Run(ctx) }()
	defer func() {
		if err != nil {
			cancel()
			<-m.done
			n.Close()
		}
	}()
	for j, o := range c.nodes {
		if o == nil || j == i || c.cut[pair(i, j)] {
			continue
		}
		if err := connect(n, o.n); err != nil {
			return err
		}
		if err := connect(o.n, n); err != nil {
			return err
		}
	}
	c.nodes[i] = m
	return nil
}

// connect tells a where b listens.
func connect(a, b *node.Node) error {
	if a.P2PAddrs() == nil {
		// A chain's lone validator has no p2p side yet: it opens one, and dials the
		// validators' multiaddrs, once the chain lists another node.
		return nil
	}
	for _, ad := range b.P2PAddrs() {
		if err := a.AddPeer(ad); err != nil && !errors.Is(err, p2p.ErrNotAllowed) {
			return err // a peer a does not allow (a joiner, or a does not know it yet) is not dialed
		}
	}
	return nil
}

// Stop stops node i as an operator would (its context ends) and closes its store; it
// returns what Run returned.
func (c *Cluster) Stop(i int) error {
	c.mu.Lock()
	m := c.nodes[i]
	c.nodes[i] = nil
	c.mu.Unlock()
	if m == nil {
		return fmt.Errorf("testnet: node %d is not running", i)
	}
	m.cancel()
	err := <-m.done
	return errors.Join(err, m.n.Close())
}

// Partition splits the network into groups of node indexes: nodes in different groups cannot
// connect to each other (nodes in no group are cut off from all). It replaces the previous
// partition; nodes stopped now are cut off as they start.
func (c *Cluster) Partition(groups ...[]int) error {
	group := make([]int, c.Len())
	for i := range group {
		group[i] = -1 - i // alone
	}
	for g, members := range groups {
		for _, i := range members {
			switch {
			case i < 0 || i >= c.Len():
				return fmt.Errorf("testnet: no node %d", i)
			case group[i] >= 0:
				return fmt.Errorf("testnet: node %d is in two groups", i)
			}
			group[i] = g
		}
	}
	want := map[[2]int]bool{}
	for i := range group {
		for j := i + 1; j < len(group); j++ {
			if group[i] != group[j] {
				want[pair(i, j)] = true
			}
		}
	}
	return c.setCut(want)
}

// Heal undoes Partition: every node may connect to every other again.
func (c *Cluster) Heal() error { return c.setCut(map[[2]int]bool{}) }

// setCut blocks the pairs in want that are not cut yet and unblocks the cut ones not in it.
func (c *Cluster) setCut(want map[[2]int]bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for i := 0; i < c.Len(); i++ {
		for j := i + 1; j < c.Len(); j++ {
			p := pair(i, j)
			if want[p] == c.cut[p] {
				continue
			}
			for _, e := range [][2]int{{i, j}, {j, i}} {
				m := c.nodes[e[0]]
				if m == nil {
					continue
				}
				if want[p] {
					errs = append(errs, m.n.BlockPeer(c.addrs[e[1]]))
				} else {
					errs = append(errs, m.n.UnblockPeer(c.addrs[e[1]]))
				}
			}
		}
	}
	c.cut = want
	return errors.Join(errs...)
}

func pair(i, j int) [2]int {
	if i > j {
		i, j = j, i
	}
	return [2]int{i, j}
}

// WaitHeight waits until node i has committed height h, or ctx ends, or the node stops.
func (c *Cluster) WaitHeight(ctx context.Context, i int, h uint64) error {
	c.mu.Lock()
	m := c.nodes[i]
	c.mu.Unlock()
	if m == nil {
		return fmt.Errorf("testnet: node %d is not running", i)
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for m.n.Ledger().Head().Height < h {
		select {
		case <-ctx.Done():
			return fmt.Errorf("testnet: node %d at height %d, waiting for %d: %w", i, m.n.Ledger().Head().Height, h, ctx.Err())
		case err := <-m.done:
			m.done <- err // for Stop
			return fmt.Errorf("testnet: node %d stopped at height %d: %v", i, m.n.Ledger().Head().Height, err)
		case <-tick.C:
		}
	}
	return nil
}

// Close stops every running node.
func (c *Cluster) Close() error {
	var errs []error
	for i := 0; i < c.Len(); i++ {
		if c.Node(i) != nil {
			errs = append(errs, c.Stop(i))
		}
	}
	return errors.Join(errs...)
}

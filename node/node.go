package node

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"golang.org/x/sync/errgroup"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
	"github.com/loyal-ledger/loyal/chain/store"
	"github.com/loyal-ledger/loyal/node/consensus"
	"github.com/loyal-ledger/loyal/node/httpapi"
	"github.com/loyal-ledger/loyal/node/internal/mempool"
)

// Node is a running Loyal node: the ledger in its store, the mempool, the driver (the
// consensus engine and the ledger's one writer), the p2p network (unless this node is the
// network's only validator) and the HTTP API. Open it, Run it until its context ends, then
// Close it.
type Node struct {
	cfg       Config
	home      string
	log       *slog.Logger
	genesis   *chain.Genesis
	db        store.DB
	ledger    *ledger.Ledger
	pool      *mempool.Mempool
	metrics   *Metrics
	feed      *commitFeed
	desk      *merchantDesk
	key       *ecdsa.PrivateKey // consensus key
	validator chain.Address
	operators *secretPair[operatorKey] // the merchant desk's keys, re-read as they rotate
	tokens    *secretPair[string]      // the merchant endpoints' bearer tokens, likewise
	listener  net.Listener
	dataDir   string
	watermark *watermark // the height of the last block committed, kept outside the store
	evidence  *evidenceLog
	drv       *driver
	net       atomic.Pointer[network] // nil while this node is its chain's only validator
	netMu     sync.Mutex              // orders a late p2p opening (joinNetwork) with Close
	closed    bool                    // under netMu: Close ran
	wrap      func(Transport) Transport
	// lonely is signalled (by the driver) when a node without a network needs one: a
	// validator set decided on chain now lists another node (ADR 0003).
	lonely    chan struct{}
	full      fullLog // when the log last said the mempool was full (admit.go)
	now       func() time.Time
	closeOnce sync.Once
}

// Options are what a program embedding a node sets in code, beside its home's files.
type Options struct {
	// Log receives the node's log lines; nil means the config's log settings, on stderr.
	Log *slog.Logger
	// WrapTransport, if not nil, is given the transport the node's consensus messages leave
	// through and returns the one the node sends them through instead (see Transport). It is
	// called once, when the node opens its p2p side: at Open, or for a chain's only
	// validator, which sends nothing, once the chain decides a validator set that lists
	// another node.
	WrapTransport func(Transport) Transport
	// AllowRollback lets Open start from a store behind the home's watermark (WatermarkFile):
	// one that lost blocks, or an empty data directory, which starts the chain again from
	// genesis. The blocks above the store's height are gone from this node; Open lowers the
	// watermark to the store's height. Without it Open refuses such a store (ErrStoreBehind).
	AllowRollback bool
}

// Open loads home's config, genesis and keys, opens the store and the ledger, and binds the
// API's listener, so every mistake in the setup surfaces here as one error and nothing has
// started yet. log may be nil (then the config's log settings apply to stderr).
func Open(home string, log *slog.Logger) (*Node, error) {
	return OpenWith(home, Options{Log: log})
}

// OpenWith is Open with options.
func OpenWith(home string, o Options) (n *Node, err error) {
	log := o.Log
	cfg, err := LoadConfig(home)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = NewLogger(cfg.Log, nil)
	}
	g, err := loadHomeGenesis(home)
	if err != nil {
		return nil, err
	}
	key, err := LoadKey(filepath.Join(home, ConsensusKeyFile))
	if err != nil {
		return nil, err
	}
	validator := crypto.PubkeyToAddress(key.PublicKey)
	operators, tokens, err := openHotKeys(home, log)
	if err != nil {
		return nil, err
	}

	db, wm, l, dataDir, err := openLedger(home, cfg, g, o.AllowRollback, log)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			db.Close()
		}
	}()
	head := l.Head()
	if err := wm.settle(head.Height); err != nil {
		return nil, err
	}
	rules := l.RulesAt(head.Height + 1)
	n = &Node{
		cfg: cfg, home: home, log: log, genesis: g, db: db, ledger: l,
		metrics: NewMetrics(), key: key, validator: validator,
		operators: operators, tokens: tokens,
		now: time.Now, dataDir: dataDir, watermark: wm,
	}
	n.pool = mempool.New(cfg.Mempool.pool(), l.Signer(), g.ChainID, rules.Params)
	n.desk = newMerchantDesk(l, n.pool, operators, log.With("component", "merchant"))
	n.desk.admit = func(tx *chain.Tx) (api.Submitted, error) { return n.admit(tx, fromMerchant) }
	if n.evidence, err = openEvidence(filepath.Join(dataDir, evidenceFile)); err != nil {
		return nil, fmt.Errorf("node: evidence: %w", err)
	}
	n.feed = newCommitFeed(head.Height)
	n.metrics.Height.Set(float64(head.Height))
	if n.drv, err = n.newDriver(); err != nil {
		return nil, err
	}
	// A network whose only validator is this node needs no peers; anything else (more
	// validators, or a key outside the set: an observer) talks to them over p2p. A lone
	// validator opens its p2p side once the chain decides a set that lists another node.
	n.wrap, n.lonely = o.WrapTransport, make(chan struct{}, 1)
	n.drv.needPeers = n.needPeers
	if n.drv.sets.needsPeers(l, head.Height) {
		nw, a, err := n.newNetwork()
		if err != nil {
			return nil, err
		}
		n.net.Store(nw)
		n.drv.attach(a)
	} else {
		// Nothing the only validator signs leaves this process except inside the blocks it
		// commits, and a block is committed durably before anyone can read it: after a crash
		// there is no earlier signature it could contradict, so it needs no signed-state file
		// and skips its fsync on every block.
		n.drv.signed = nil
	}
	n.drv.sets.follow(l, head.Height) // the sets already decided, before any peer connects
	if n.listener, err = httpapi.Listen(cfg.API.Listen, cfg.API.MaxConns, cfg.API.MaxConnsPerClient, log); err != nil {
		if nw := n.net.Load(); nw != nil {
			nw.host.Close()
		}
		return nil, fmt.Errorf("node: API listen on %s: %w", cfg.API.Listen, err)
	}
	log.Info("node opened", "moniker", cfg.Moniker, "chain_id", g.ChainID, "network", g.Network,
		"genesis", g.Hash(), "height", head.Height, "state_root", head.StateRoot, "backend", cfg.Backend,
		"validator", validator.Hex(), "operators", operatorAddrs(operators.held()), "api_tokens", len(tokens.held()))
	return n, nil
}

// APIURL is the base URL the API serves on (useful with port 0).
func (n *Node) APIURL() string { return "http://" + n.listener.Addr().String() }

// Ledger is the node's ledger (reads only; the driver owns writes).
func (n *Node) Ledger() *ledger.Ledger { return n.ledger }

// Metrics are the node's Prometheus metrics, which its API serves at /metrics (for reading:
// the node updates them).
func (n *Node) Metrics() *Metrics { return n.metrics }

// Run serves the API and drives consensus until ctx ends or a fatal error (a store failure)
// occurs; then it stops both and returns. Close the node afterwards.
func (n *Node) Run(ctx context.Context) error {
	srv := &http.Server{
		Handler:           httpapi.NewServer(n, n.ledger, n.log.With("component", "api"), n.metrics.APILatency, n.metrics.Registry, n.cfg.API.MaxBodyBytes).LimitWrites(n.cfg.API.WriteRate, n.cfg.API.WriteBurst).Handler(),
		ReadHeaderTimeout: n.cfg.API.ReadTimeout.Duration,
		ReadTimeout:       n.cfg.API.ReadTimeout.Duration,
		WriteTimeout:      n.cfg.API.WriteTimeout.Duration,
		IdleTimeout:       30 * time.Second, // an idle keep-alive connection holds a slot of the cap
		ErrorLog:          slog.NewLogLogger(n.log.Handler(), slog.LevelDebug),
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(n.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("node: API: %w", err)
		}
		return nil
	})
	g.Go(func() error { return n.drv.run(ctx) })
	if nw := n.net.Load(); nw != nil {
		g.Go(func() error { return nw.run(ctx) })
	} else {
		g.Go(func() error { return n.joinNetwork(ctx) })
	}
	g.Go(func() error {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shut); err != nil {
			srv.Close()
		}
		return nil
	})
	err := g.Wait()
	n.log.Info("node stopped", "height", n.ledger.Head().Height)
	return err
}

// Close closes the store. Call it after Run has returned (or instead of Run).
func (n *Node) Close() error {
	var err error
	n.closeOnce.Do(func() {
		n.netMu.Lock()
		n.closed = true
		nw := n.net.Load()
		n.netMu.Unlock()
		if nw != nil {
			nw.host.Close()
		}
		n.listener.Close()
		err = n.db.Close()
	})
	return err
}

// ConsensusStatus is where the node's consensus engine stands: height, round, step and
// locks (the zero Status before it has stepped anything).
func (n *Node) ConsensusStatus() consensus.Status {
	if st := n.drv.status.Load(); st != nil {
		return *st
	}
	return consensus.Status{}
}

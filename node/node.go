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
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"golang.org/x/sync/errgroup"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
	"github.com/loyal-ledger/loyal/chain/store"
	"github.com/loyal-ledger/loyal/chain/store/backends"
	"github.com/loyal-ledger/loyal/node/httpapi"
	"github.com/loyal-ledger/loyal/node/internal/mempool"
)

// Node is a running Loyal node: the ledger in its store, the mempool, the block producer
// (one validator) or the BFT replica (several validators, or an observer), and the HTTP API.
// Open it, Run it until its context ends, then Close it.
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
	operator  *ecdsa.PrivateKey
	opAddr    chain.Address
	token     string
	listener  net.Listener
	dataDir   string
	evidence  *evidenceLog
	full      fullLog       // when the log last said the mempool was full (admit.go)
	replica   *replica      // nil on a single-validator network
	wake      chan struct{} // nudges the producer; buffered, never blocks a sender
	now       func() time.Time

	// lastCommit is the certificate of the head block; only the producer goroutine uses it
	// after Open.
	lastCommit *chain.Commit
	closeOnce  sync.Once
}

// Options are what a program embedding a node sets in code, beside its home's files.
type Options struct {
	// Log receives the node's log lines; nil means the config's log settings, on stderr.
	Log *slog.Logger
	// WrapTransport, if not nil, is given the transport the node's consensus messages leave
	// through and returns the one the node sends them through instead (see Transport). Open
	// calls it once, on a node that runs consensus: not on a single-validator network, whose
	// validator sends nothing.
	WrapTransport func(Transport) Transport
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
	g, err := chain.LoadGenesis(filepath.Join(home, GenesisFile))
	if err != nil {
		return nil, fmt.Errorf("node: %s: %w", filepath.Join(home, GenesisFile), err)
	}
	key, err := LoadKey(filepath.Join(home, ConsensusKeyFile))
	if err != nil {
		return nil, err
	}
	validator := crypto.PubkeyToAddress(key.PublicKey)
	operator, err := LoadKey(filepath.Join(home, OperatorKeyFile))
	if err != nil {
		return nil, err
	}
	token, err := LoadToken(filepath.Join(home, TokenFile))
	if err != nil {
		return nil, err
	}

	dataDir := cfg.DataDir
	if !filepath.IsAbs(dataDir) {
		dataDir = filepath.Join(home, dataDir)
	}
	opts := ledger.StoreOptions(g.Params)
	opts.Logger = log.With("component", "store")
	db, err := backends.Open(cfg.Backend, dataDir, opts)
	if err != nil {
		return nil, fmt.Errorf("node: open %s store in %s: %w", cfg.Backend, dataDir, err)
	}
	defer func() {
		if err != nil {
			db.Close()
		}
	}()
	l, err := ledger.Open(db, g)
	if err != nil {
		return nil, fmt.Errorf("node: %s: %w", dataDir, err)
	}
	head := l.Head()
	// A single-validator network needs no consensus: its validator produces blocks alone.
	// Anything else (more validators, or a key outside the set: an observer) runs the BFT
	// engine over p2p.
	rules := l.RulesAt(head.Height + 1)
	solo := len(rules.Validators) == 1 && rules.ValidatorIndex(validator) == 0
	n = &Node{
		cfg: cfg, home: home, log: log, genesis: g, db: db, ledger: l,
		metrics: NewMetrics(), key: key, validator: validator,
		operator: operator, opAddr: crypto.PubkeyToAddress(operator.PublicKey), token: token,
		wake: make(chan struct{}, 1), now: time.Now,
	}
	n.pool = mempool.New(cfg.Mempool.pool(), l.Signer(), g.ChainID, l.RulesAt(head.Height+1).Params)
	n.desk = newMerchantDesk(n)
	n.dataDir = dataDir
	if n.evidence, err = openEvidence(filepath.Join(dataDir, evidenceFile)); err != nil {
		return nil, fmt.Errorf("node: evidence: %w", err)
	}
	n.feed = newCommitFeed(head.Height)
	if head.Height > 0 {
		if n.lastCommit, err = l.SeenCommit(head.Height); err != nil {
			return nil, fmt.Errorf("node: certificate of the head block %d: %w", head.Height, err)
		}
	}
	n.metrics.Height.Set(float64(head.Height))
	if !solo {
		if n.replica, err = newReplica(n, o.WrapTransport); err != nil {
			return nil, err
		}
	}
	if n.listener, err = net.Listen("tcp", cfg.API.Listen); err != nil {
		if n.replica != nil {
			n.replica.host.Close()
		}
		return nil, fmt.Errorf("node: API listen on %s: %w", cfg.API.Listen, err)
	}
	log.Info("node opened", "moniker", cfg.Moniker, "chain_id", g.ChainID, "network", g.Network,
		"genesis", g.Hash(), "height", head.Height, "state_root", head.StateRoot, "backend", cfg.Backend,
		"validator", validator.Hex(), "operator", n.opAddr.Hex())
	return n, nil
}

// APIURL is the base URL the API serves on (useful with port 0).
func (n *Node) APIURL() string { return "http://" + n.listener.Addr().String() }

// Ledger is the node's ledger (reads only; the producer owns writes).
func (n *Node) Ledger() *ledger.Ledger { return n.ledger }

// Metrics are the node's Prometheus metrics, which its API serves at /metrics (for reading:
// the node updates them).
func (n *Node) Metrics() *Metrics { return n.metrics }

// Run serves the API and produces blocks until ctx ends or a fatal error (a store failure)
// occurs; then it stops both and returns. Close the node afterwards.
func (n *Node) Run(ctx context.Context) error {
	srv := &http.Server{
		Handler:           httpapi.NewServer(n, n.ledger, n.log.With("component", "api"), n.metrics.APILatency, n.metrics.Registry, n.cfg.API.MaxBodyBytes).Handler(),
		ReadHeaderTimeout: n.cfg.API.ReadTimeout.Duration,
		ReadTimeout:       n.cfg.API.ReadTimeout.Duration,
		WriteTimeout:      n.cfg.API.WriteTimeout.Duration,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(n.log.Handler(), slog.LevelDebug),
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(n.listener); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("node: API: %w", err)
		}
		return nil
	})
	if n.replica != nil {
		g.Go(func() error { return n.replica.run(ctx) })
	} else {
		g.Go(func() error { return n.produce(ctx) })
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
		if n.replica != nil {
			n.replica.host.Close()
		}
		n.listener.Close()
		err = n.db.Close()
	})
	return err
}

// nonceOf is an account's next nonce in the committed state.
func (n *Node) nonceOf(a chain.Address) (uint64, error) {
	acc, err := n.ledger.Account(a)
	if err != nil {
		return 0, err
	}
	return acc.Nonce, nil
}

// nudge wakes the producer without blocking.
func (n *Node) nudge() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

package node

import (
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/loyal-ledger/loyal/node/internal/mempool"
)

// Config is a node's config.toml. Relative paths are relative to the node's home directory.
type Config struct {
	// Moniker names the node in logs.
	Moniker string `toml:"moniker"`
	// DataDir holds the ledger's store.
	DataDir string `toml:"data_dir"`
	// Backend is the store: "pebble" (default) or "badger".
	Backend string `toml:"backend"`

	API       APIConfig       `toml:"api"`
	P2P       P2PConfig       `toml:"p2p"`
	Consensus ConsensusConfig `toml:"consensus"`
	Mempool   MempoolConfig   `toml:"mempool"`
	Blocks    BlocksConfig    `toml:"blocks"`
	Log       LogConfig       `toml:"log"`
}

// APIConfig is the HTTP API's section.
type APIConfig struct {
	// Listen is host:port; 127.0.0.1 unless you mean to expose the node.
	Listen string `toml:"listen"`
	// MaxBodyBytes bounds a request body.
	MaxBodyBytes int64 `toml:"max_body_bytes"`
	// ReadTimeout and WriteTimeout bound one request (a long-poll ?wait is capped below the
	// write timeout).
	ReadTimeout  Duration `toml:"read_timeout"`
	WriteTimeout Duration `toml:"write_timeout"`
	// MaxConns caps the connections served at once; more wait until one closes (0 = no cap).
	MaxConns int `toml:"max_conns"`
	// MaxConnsPerClient caps the connections one client (an IP address, an IPv6 /64) holds
	// open at once; past it its new ones are closed (0 = no cap). Loopback clients are not
	// capped: a reverse proxy on the same host must cap its own.
	MaxConnsPerClient int `toml:"max_conns_per_client"`
	// WriteRate is how many writes (POST /v1/txs, the merchant endpoints) one client address
	// may make a second on average, in bursts of up to WriteBurst; over it the API answers 429
	// rate_limited with Retry-After (0 = no limit). Loopback clients and requests bearing the
	// merchant token are not limited.
	WriteRate  float64 `toml:"write_rate"`
	WriteBurst int     `toml:"write_burst"`
}

// P2PConfig is the peer-to-peer section (used when the network has more than one validator,
// or this node is an observer).
type P2PConfig struct {
	// Listen are libp2p TCP multiaddrs, e.g. "/ip4/0.0.0.0/tcp/8646".
	Listen []string `toml:"listen"`
	// Bootstrap are further peers to keep connected ("/ip4/…/tcp/…/p2p/ID"); the genesis
	// validators' multiaddrs are dialed anyway.
	Bootstrap []string `toml:"bootstrap"`
	// Observers are peer ids of non-validators allowed to connect (auditors, read replicas).
	Observers []string `toml:"observers"`
	// MDNS advertises the node on the LAN and dials the validators and observers it finds
	// there (off by default: a production network names its peers in genesis or bootstrap).
	MDNS bool `toml:"mdns"`
}

// ConsensusConfig tunes the BFT engine's timeouts (safety never depends on them).
type ConsensusConfig struct {
	TimeoutPropose   Duration `toml:"timeout_propose"`
	TimeoutPrevote   Duration `toml:"timeout_prevote"`
	TimeoutPrecommit Duration `toml:"timeout_precommit"`
	TimeoutIncrement Duration `toml:"timeout_increment"`
	TimeoutMax       Duration `toml:"timeout_max"`
	// MaxDrift bounds how far a proposed block's time may be from this node's clock.
	MaxDrift Duration `toml:"max_drift"`
}

// MempoolConfig bounds the mempool.
type MempoolConfig struct {
	MaxTxs          int    `toml:"max_txs"`
	MaxBytes        int    `toml:"max_bytes"`
	MaxFutureNonces uint64 `toml:"max_future_nonces"`
	// Queued transactions cannot run yet: a nonce of their sender before theirs is missing.
	// They are bounded per sender and in all, evicted first when the pool is full, and
	// dropped after QueuedTTL (of block time).
	MaxQueuedPerSender int      `toml:"max_queued_per_sender"`
	MaxQueuedTxs       int      `toml:"max_queued_txs"`
	MaxQueuedBytes     int      `toml:"max_queued_bytes"`
	QueuedTTL          Duration `toml:"queued_ttl"`
	// MerchantReservePercent of max_txs and max_bytes only the merchant endpoints may fill,
	// so that a flood of submissions does not stop the shops' earns and refunds (0 to 90).
	MerchantReservePercent int `toml:"merchant_reserve_percent"`
}

// pool is the mempool's config.
func (c MempoolConfig) pool() mempool.Config {
	return mempool.Config{
		MaxTxs: c.MaxTxs, MaxBytes: c.MaxBytes, MaxFutureNonces: c.MaxFutureNonces,
		MaxQueuedPerSender: c.MaxQueuedPerSender, MaxQueuedTxs: c.MaxQueuedTxs, MaxQueuedBytes: c.MaxQueuedBytes,
		QueuedTTL: uint64(c.QueuedTTL.Seconds()), ReservedPercent: c.MerchantReservePercent,
	}
}

// BlocksConfig is the section of the blocks this node proposes.
type BlocksConfig struct {
	// MaxTxs and MaxBytes cap a block below the genesis limits (0 = the genesis limit).
	MaxTxs   int `toml:"max_txs"`
	MaxBytes int `toml:"max_bytes"`
	// Heartbeat is how long the chain may go without a block when nothing is pending
	// (0 = never make an empty block).
	Heartbeat Duration `toml:"heartbeat"`
}

// LogConfig is the logging section.
type LogConfig struct {
	Level  string `toml:"level"`  // debug, info, warn, error
	Format string `toml:"format"` // text or json
}

// Duration is a time.Duration written as "1.5s" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText parses "1.5s".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalText writes "1.5s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// DefaultAPIListen is where the API listens unless configured otherwise.
const DefaultAPIListen = "127.0.0.1:8645"

// DefaultConfig is the configuration `loyald init` writes.
func DefaultConfig() Config {
	return Config{
		Moniker: "loyal-node",
		DataDir: "data",
		Backend: "pebble",
		API: APIConfig{
			Listen:            DefaultAPIListen,
			MaxBodyBytes:      2 << 20,
			ReadTimeout:       Duration{10 * time.Second},
			WriteTimeout:      Duration{40 * time.Second},
			MaxConns:          1024,
			MaxConnsPerClient: 64,
			WriteRate:         10,
			WriteBurst:        20,
		},
		P2P: P2PConfig{Listen: []string{"/ip4/0.0.0.0/tcp/8646"}},
		Consensus: ConsensusConfig{
			TimeoutPropose: Duration{3 * time.Second}, TimeoutPrevote: Duration{time.Second},
			TimeoutPrecommit: Duration{time.Second}, TimeoutIncrement: Duration{500 * time.Millisecond},
			TimeoutMax: Duration{30 * time.Second}, MaxDrift: Duration{10 * time.Second},
		},
		Mempool: MempoolConfig{
			MaxTxs: 50_000, MaxBytes: 64 << 20, MaxFutureNonces: 64,
			MaxQueuedPerSender: 16, MaxQueuedTxs: 2048, MaxQueuedBytes: 8 << 20, QueuedTTL: Duration{10 * time.Minute},
			MerchantReservePercent: 10,
		},
		Blocks: BlocksConfig{Heartbeat: Duration{time.Minute}},
		Log:    LogConfig{Level: "info", Format: "text"},
	}
}

// ErrBadConfig marks a config file that cannot be used.
var ErrBadConfig = errors.New("node: bad config")

// LoadConfig reads and checks home/config.toml. Unknown keys are an error, so a typo does not
// silently leave a default in force.
func LoadConfig(home string) (Config, error) {
	path := filepath.Join(home, ConfigFile)
	cfg := DefaultConfig()
	md, err := toml.DecodeFile(path, &cfg)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return cfg, fmt.Errorf("%w: %s does not exist (run `loyald init --home %s` first)", ErrBadConfig, path, home)
		}
		return cfg, fmt.Errorf("%w: %s: %v", ErrBadConfig, path, err)
	}
	if un := md.Undecoded(); len(un) > 0 {
		keys := make([]string, len(un))
		for i, k := range un {
			keys[i] = k.String()
		}
		return cfg, fmt.Errorf("%w: %s: unknown keys %s", ErrBadConfig, path, strings.Join(keys, ", "))
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("%w: %s: %v", ErrBadConfig, path, err)
	}
	return cfg, nil
}

// Validate checks every field's range.
func (c *Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir is empty"))
	}
	if c.Backend != "pebble" && c.Backend != "badger" {
		errs = append(errs, fmt.Errorf("backend %q: want %q or %q", c.Backend, "pebble", "badger"))
	}
	if c.API.Listen == "" {
		errs = append(errs, errors.New("api.listen is empty"))
	}
	if c.API.MaxBodyBytes < 1<<10 {
		errs = append(errs, fmt.Errorf("api.max_body_bytes %d is below 1024", c.API.MaxBodyBytes))
	}
	if c.API.ReadTimeout.Duration <= 0 || c.API.WriteTimeout.Duration < time.Second {
		errs = append(errs, errors.New("api.read_timeout must be positive and api.write_timeout at least 1s"))
	}
	if c.API.MaxConnsPerClient < 0 {
		errs = append(errs, fmt.Errorf("api.max_conns_per_client %d is negative (0 = no cap)", c.API.MaxConnsPerClient))
	}
	if c.API.MaxConns < 0 {
		errs = append(errs, fmt.Errorf("api.max_conns %d is negative (0 = no cap)", c.API.MaxConns))
	}
	if c.API.WriteRate < 0 || math.IsNaN(c.API.WriteRate) || math.IsInf(c.API.WriteRate, 0) {
		errs = append(errs, fmt.Errorf("api.write_rate %v: want a number of writes a second, 0 for no limit", c.API.WriteRate))
	}
	if c.API.WriteRate > 0 && c.API.WriteBurst < 1 {
		errs = append(errs, fmt.Errorf("api.write_burst %d: want at least 1 when api.write_rate is set", c.API.WriteBurst))
	}
	if len(c.P2P.Listen) == 0 {
		errs = append(errs, errors.New("p2p.listen is empty"))
	}
	cs := c.Consensus
	if cs.TimeoutPropose.Duration <= 0 || cs.TimeoutPrevote.Duration <= 0 || cs.TimeoutPrecommit.Duration <= 0 ||
		cs.TimeoutIncrement.Duration < 0 || cs.TimeoutMax.Duration < cs.TimeoutPropose.Duration || cs.MaxDrift.Duration < time.Second {
		errs = append(errs, errors.New("consensus: timeouts must be positive, timeout_max at least timeout_propose, max_drift at least 1s"))
	}
	if c.Mempool.MaxTxs <= 0 || c.Mempool.MaxBytes <= 0 {
		errs = append(errs, errors.New("mempool.max_txs and mempool.max_bytes must be positive"))
	}
	if mp := c.Mempool; mp.MaxQueuedPerSender <= 0 || mp.MaxQueuedTxs <= 0 || mp.MaxQueuedBytes <= 0 || mp.QueuedTTL.Duration < time.Second {
		errs = append(errs, errors.New("mempool.max_queued_per_sender, max_queued_txs and max_queued_bytes must be positive, queued_ttl at least 1s"))
	}
	if r := c.Mempool.MerchantReservePercent; r < 0 || r > 90 {
		errs = append(errs, fmt.Errorf("mempool.merchant_reserve_percent %d: want 0 to 90", r))
	}
	if c.Blocks.MaxTxs < 0 || c.Blocks.MaxBytes < 0 || c.Blocks.Heartbeat.Duration < 0 {
		errs = append(errs, errors.New("blocks.max_txs, blocks.max_bytes and blocks.heartbeat must not be negative"))
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log.level %q: want debug, info, warn or error", c.Log.Level))
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		errs = append(errs, fmt.Errorf("log.format %q: want text or json", c.Log.Format))
	}
	return errors.Join(errs...)
}

// LocalURL is where a program on this machine reaches the API: http:// and api.listen, with
// an unspecified host (0.0.0.0, ::, none) replaced by loopback. It fails for port 0, where
// only the running node knows its port.
func (c APIConfig) LocalURL() (string, error) {
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return "", fmt.Errorf("%w: api.listen %q: %v", ErrBadConfig, c.Listen, err)
	}
	if port == "0" {
		return "", fmt.Errorf("%w: api.listen %q has no fixed port", ErrBadConfig, c.Listen)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	return "http://" + net.JoinHostPort(host, port), nil
}

// Encode is the TOML text of c.
func (c *Config) Encode() ([]byte, error) {
	var b strings.Builder
	b.WriteString("# Loyal node configuration. Relative paths are relative to this file's directory.\n")
	if err := toml.NewEncoder(&b).Encode(c); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}

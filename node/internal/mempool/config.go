package mempool

// Config bounds the mempool. The zero Config means the defaults.
type Config struct {
	MaxTxs          int    // most transactions held; 0 (or less) = 50_000
	MaxBytes        int    // most bytes held (sum of tx.Size()); 0 (or less) = 64 MiB
	MaxFutureNonces uint64 // how far past the sender's next committed nonce a tx may be; 0 = 64

	// Queued transactions are those that cannot run yet: a nonce of their sender before
	// theirs is neither committed nor held (a gap). They cost the pool memory and gossip
	// while nothing says they ever will run, so they have bounds of their own, are evicted
	// first when the pool is full, and expire.
	MaxQueuedPerSender int    // most queued transactions of one sender; 0 (or less) = 16
	MaxQueuedTxs       int    // most queued transactions in all; 0 (or less) = 2048
	MaxQueuedBytes     int    // most bytes of queued transactions; 0 (or less) = 8 MiB
	QueuedTTL          uint64 // seconds (of block time) a queued transaction is kept; 0 = 600

	// ReservedPercent of MaxTxs and MaxBytes is kept for admissions with
	// AddOptions.Reserved (the merchant desk's): others find the pool full earlier, so a
	// flood of ordinary submissions cannot lock the merchants out. 0 = none; at most 90.
	ReservedPercent int
}

// The defaults of a zero Config.
const (
	DefaultMaxTxs             = 50_000
	DefaultMaxBytes           = 64 << 20
	DefaultMaxFutureNonces    = 64
	DefaultMaxQueuedPerSender = 16
	DefaultMaxQueuedTxs       = 2048
	DefaultMaxQueuedBytes     = 8 << 20
	DefaultQueuedTTL          = 600
)

// withDefaults returns c with its zero fields set to the defaults.
func (c Config) withDefaults() Config {
	if c.MaxTxs <= 0 {
		c.MaxTxs = DefaultMaxTxs
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.MaxFutureNonces == 0 {
		c.MaxFutureNonces = DefaultMaxFutureNonces
	}
	if c.MaxQueuedPerSender <= 0 {
		c.MaxQueuedPerSender = DefaultMaxQueuedPerSender
	}
	if c.MaxQueuedTxs <= 0 {
		c.MaxQueuedTxs = DefaultMaxQueuedTxs
	}
	if c.MaxQueuedBytes <= 0 {
		c.MaxQueuedBytes = DefaultMaxQueuedBytes
	}
	if c.QueuedTTL == 0 {
		c.QueuedTTL = DefaultQueuedTTL
	}
	c.ReservedPercent = min(max(c.ReservedPercent, 0), 90)
	return c
}

// limits are the most transactions and bytes an admission may fill the pool to.
func (c Config) limits(reserved bool) (txs, bytes int) {
	if reserved {
		return c.MaxTxs, c.MaxBytes
	}
	return c.MaxTxs - c.MaxTxs*c.ReservedPercent/100, c.MaxBytes - c.MaxBytes/100*c.ReservedPercent
}

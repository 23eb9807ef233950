package mempool

// Config bounds the mempool. The zero Config means the defaults.
type Config struct {
	MaxTxs          int    // most transactions held; 0 (or less) = 50_000
	MaxBytes        int    // most bytes held (sum of tx.Size()); 0 (or less) = 64 MiB
	MaxFutureNonces uint64 // how far past the sender's next committed nonce a tx may be; 0 = 64
}

// The defaults of a zero Config.
const (
	DefaultMaxTxs          = 50_000
	DefaultMaxBytes        = 64 << 20
	DefaultMaxFutureNonces = 64
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
	return c
}

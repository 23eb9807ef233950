package backend

import (
	"fmt"
	"log/slog"

	"github.com/loyal-ledger/loyal/chain/store"
)

// MaxBatchBytes returns the MaxBatchBytes a backend applies for opts, which may be
// nil: the default for 0, an error for a negative value.
func MaxBatchBytes(o *store.Options) (int, error) {
	if o == nil || o.MaxBatchBytes == 0 {
		return store.DefaultMaxBatchBytes, nil
	}
	if o.MaxBatchBytes < 0 {
		return 0, fmt.Errorf("store: negative MaxBatchBytes %d", o.MaxBatchBytes)
	}
	return o.MaxBatchBytes, nil
}

// ReadOnly reports whether opts, which may be nil, asks for a read-only store.
func ReadOnly(o *store.Options) bool { return o != nil && o.ReadOnly }

// Logger returns the logger of opts, which may be nil: nil means no logging.
func Logger(o *store.Options) *slog.Logger {
	if o == nil {
		return nil
	}
	return o.Logger
}

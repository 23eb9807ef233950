package pebble

import (
	"fmt"
	"log/slog"

	"github.com/loyal-ledger/loyal/chain/store/internal/backend"
)

// pebbleLogger implements pebble.Logger.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	backend.Logf(p.l, slog.LevelInfo, "pebble", format, args...)
}

// Fatalf logs at error level and panics: pebble calls it on invariant
// violations and does not expect it to return.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	backend.Logf(p.l, slog.LevelError, "pebble", format, args...)
	panic("store: pebble fatal: " + fmt.Sprintf(format, args...))
}

package badger

import (
	"log/slog"

	"github.com/loyal-ledger/loyal/chain/store/internal/backend"
)

// badgerLogger implements badger.Logger.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(format string, args ...any) {
	backend.Logf(b.l, slog.LevelError, "badger", format, args...)
}

func (b badgerLogger) Warningf(format string, args ...any) {
	backend.Logf(b.l, slog.LevelWarn, "badger", format, args...)
}

func (b badgerLogger) Infof(format string, args ...any) {
	backend.Logf(b.l, slog.LevelInfo, "badger", format, args...)
}

func (b badgerLogger) Debugf(format string, args ...any) {
	backend.Logf(b.l, slog.LevelDebug, "badger", format, args...)
}

package store

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// The backends log through these adapters to the *slog.Logger in Options. With
// no logger they are silent: neither backend writes to stderr on its own.

// logf formats and logs at level if l is non-nil and enabled for it.
func logf(l *slog.Logger, level slog.Level, backend, format string, args ...any) {
	if l == nil || !l.Enabled(context.Background(), level) {
		return
	}
	msg := strings.TrimRight(fmt.Sprintf(format, args...), "\n")
	l.Log(context.Background(), level, msg, slog.String("backend", backend))
}

// pebbleLogger implements pebble.Logger.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	logf(p.l, slog.LevelInfo, "pebble", format, args...)
}

// Fatalf logs at error level and panics: pebble calls it on invariant
// violations and does not expect it to return.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	logf(p.l, slog.LevelError, "pebble", format, args...)
	panic("store: pebble fatal: " + fmt.Sprintf(format, args...))
}

// badgerLogger implements badger.Logger.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(format string, args ...any) {
	logf(b.l, slog.LevelError, "badger", format, args...)
}

func (b badgerLogger) Warningf(format string, args ...any) {
	logf(b.l, slog.LevelWarn, "badger", format, args...)
}

func (b badgerLogger) Infof(format string, args ...any) {
	logf(b.l, slog.LevelInfo, "badger", format, args...)
}

func (b badgerLogger) Debugf(format string, args ...any) {
	logf(b.l, slog.LevelDebug, "badger", format, args...)
}

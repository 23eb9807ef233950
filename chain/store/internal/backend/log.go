package backend

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// The backends log through these adapters to the *slog.Logger in Options. With
// no logger they are silent: neither backend writes to stderr on its own.

// Logf formats and logs at level if l is non-nil and enabled for it.
func Logf(l *slog.Logger, level slog.Level, backend, format string, args ...any) {
	if l == nil || !l.Enabled(context.Background(), level) {
		return
	}
	msg := strings.TrimRight(fmt.Sprintf(format, args...), "\n")
	l.Log(context.Background(), level, msg, slog.String("backend", backend))
}

// Package backend holds what the store backends (packages pebble and badger) share and the
// store's users need not see: the gate that lets Close wait for calls in progress, the
// checks every Commit makes first, and the logging adapter to log/slog.
package backend

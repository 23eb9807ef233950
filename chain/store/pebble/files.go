package pebble

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/loyal-ledger/loyal/chain/store"
)

// checkFiles refuses a directory holding pebble manifests but no CURRENT file, the file that
// names the live manifest. Pebble itself panics on it when opening read-write and, read-only,
// opens it as an empty store: either way the committed data would be lost to view, and a
// node would start over. Nothing in dir is changed.
func checkFiles(dir string) error {
	manifests, err := filepath.Glob(filepath.Join(dir, "MANIFEST-*"))
	if err != nil || len(manifests) == 0 {
		return nil // a new store, or nothing pebble would recognise
	}
	if _, err := os.Stat(filepath.Join(dir, "CURRENT")); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: open pebble %s: %w: CURRENT is missing beside %d manifest file(s)",
			dir, store.ErrCorrupt, len(manifests))
	}
	return nil
}

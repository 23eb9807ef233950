package node

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/loyal-ledger/loyal/chain/ledger"
	"github.com/loyal-ledger/loyal/chain/store"
	"github.com/loyal-ledger/loyal/chain/store/backends"
)

// ErrStoreBehind is returned by Open when the store holds fewer blocks than the home's
// watermark says this node committed: the store lost blocks, or the data directory is empty
// or was restored from an old backup. Nothing has been written when it is returned.
var ErrStoreBehind = errors.New("node: the store is behind the blocks this node committed")

// checkStore runs before Open opens the store read-write, and writes nothing: it reads the
// home's watermark and, read-only, the head of the store in dataDir, and refuses a store
// behind the watermark unless allowRollback. Opening read-write first would already change
// the evidence: pebble replays its log up to any damage and then writes the result out.
func checkStore(home, backend, dataDir string, opts *store.Options, allowRollback bool, log *slog.Logger) (*watermark, error) {
	wm, found, err := loadWatermark(filepath.Join(home, WatermarkFile))
	if err != nil {
		return nil, err
	}
	wm.found = found
	if wm.height == 0 {
		return wm, nil // nothing committed that a store could have lost
	}
	head, empty, err := readStoreHead(backend, dataDir, opts)
	if err != nil {
		return nil, fmt.Errorf("node: open %s store in %s: %w", backend, dataDir, err)
	}
	if head >= wm.height {
		return wm, nil
	}
	if allowRollback {
		log.Warn("starting from a store behind the watermark, as --allow-rollback asks: the blocks above the store's height are gone from this node",
			"store_height", head, "watermark", wm.height, "data_dir", dataDir)
		return wm, nil
	}
	if empty {
		return nil, fmt.Errorf("%w: %s holds no store, but this node committed blocks up to height %d (%s). "+
			"Starting would begin the chain again from genesis. Restore the data directory from a backup; "+
			"or, to start over and lose those blocks on this node, start once with --allow-rollback",
			ErrStoreBehind, dataDir, wm.height, filepath.Join(home, WatermarkFile))
	}
	return nil, fmt.Errorf("%w: the store in %s is at height %d, but this node committed blocks up to height %d (%s). "+
		"The store lost blocks: a damaged or cut write-ahead log, or a data directory restored from an older backup. "+
		"Restore the data directory from a backup at height %d or later; or, to carry on from height %d and lose the "+
		"blocks above it on this node (a validator of a multi-validator network fetches them again from its peers), "+
		"start once with --allow-rollback",
		ErrStoreBehind, dataDir, head, wm.height, filepath.Join(home, WatermarkFile), wm.height, head)
}

// readStoreHead opens the store in dataDir read-only and reads its head height; empty is true
// (height 0) when dataDir holds no store files at all.
func readStoreHead(backend, dataDir string, opts *store.Options) (height uint64, empty bool, err error) {
	if has, err := hasStoreFiles(dataDir); err != nil || !has {
		return 0, true, err
	}
	ro := *opts
	ro.ReadOnly = true
	db, err := backends.Open(backend, dataDir, &ro)
	if err != nil {
		return 0, false, err
	}
	defer db.Close()
	head, _, err := ledger.ReadHead(db)
	return head.Height, false, err
}

// hasStoreFiles reports whether dir holds anything but the files the node itself keeps there
// (the evidence log, a signed state not yet migrated) and temporary files.
func hasStoreFiles(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("node: data directory: %w", err)
	}
	for _, e := range entries {
		switch name := e.Name(); {
		case name == evidenceFile, name == signedStateFile, strings.HasPrefix(name, "."):
		default:
			return true, nil
		}
	}
	return false, nil
}

// settle brings the watermark to the opened ledger's head: it creates it on a home that had
// none, raises it when the store is ahead (a crash between a commit and the watermark's
// advance), and lowers it when the operator allowed a store behind it.
func (w *watermark) settle(head uint64) error {
	switch {
	case !w.found || head < w.height:
		if err := w.reset(head); err != nil {
			return err
		}
		w.found = true
		return nil
	default:
		return w.Advance(head)
	}
}

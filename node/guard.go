package node

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
	"github.com/loyal-ledger/loyal/chain/store"
	"github.com/loyal-ledger/loyal/chain/store/backends"
)

// ErrStoreBehind is returned by Open when the store holds fewer blocks than the home's
// watermark says this node committed: the store lost blocks, or the data directory is empty
// or was restored from an old backup. Nothing has been written when it is returned.
var ErrStoreBehind = errors.New("node: the store is behind the blocks this node committed")

// openLedger opens the ledger of home's data directory as a start does: the store through
// openStore's checks (a store behind the watermark is refused unless allowRollback), then
// ledger.Open's. On success the caller closes db; dataDir is the resolved directory.
func openLedger(home string, cfg Config, g *chain.Genesis, allowRollback bool, log *slog.Logger) (db store.DB, wm *watermark, l *ledger.Ledger, dataDir string, err error) {
	dataDir = cfg.DataDir
	if !filepath.IsAbs(dataDir) {
		dataDir = filepath.Join(home, dataDir)
	}
	opts := ledger.StoreOptions(g.Params)
	opts.Logger = log.With("component", "store")
	if db, wm, err = openStore(home, cfg.Backend, dataDir, opts, allowRollback, log); err != nil {
		return nil, nil, nil, "", err
	}
	if l, err = ledger.Open(db, g); err != nil {
		db.Close()
		return nil, nil, nil, "", fmt.Errorf("node: %s: %w", dataDir, err)
	}
	return db, wm, l, dataDir, nil
}

// openStore opens the store in dataDir read-write, after checking it against the home's
// watermark: a store behind it (fewer blocks than this node committed) is refused with
// ErrStoreBehind unless allowRollback. An empty data directory is refused before anything is
// opened. A pebble store's head is read read-only first, so a refusal writes nothing: opened
// read-write, pebble would replay its log up to any damage and write the result out,
// destroying the evidence. Badger cannot open read-only the store every crash leaves (its log
// needs cutting back; the failed open also leaks goroutines), so a badger store is checked
// once open read-write, before the ledger writes anything (badger has cut its log by then).
// The double-sign protection file is moved out of dataDir once the first check passed.
func openStore(home, backend, dataDir string, opts *store.Options, allowRollback bool, log *slog.Logger) (db store.DB, wm *watermark, err error) {
	wm, found, err := loadWatermark(filepath.Join(home, WatermarkFile))
	if err != nil {
		return nil, nil, err
	}
	wm.found = found
	checked := wm.height == 0 // nothing committed that a store could have lost
	if !checked {
		has, err := hasStoreFiles(dataDir)
		switch {
		case err != nil:
			return nil, nil, err
		case !has:
			if err := wm.check(home, dataDir, 0, true, allowRollback, log); err != nil {
				return nil, nil, err
			}
			checked = true
		case backend != "badger":
			head, err := readStoreHead(backend, dataDir, opts)
			if err != nil {
				return nil, nil, fmt.Errorf("node: open %s store in %s: %w", backend, dataDir, err)
			}
			if err := wm.check(home, dataDir, head, false, allowRollback, log); err != nil {
				return nil, nil, err
			}
			checked = true
		}
	}
	if err := migrateSignedState(home, dataDir); err != nil {
		return nil, nil, err
	}
	if db, err = backends.Open(backend, dataDir, opts); err != nil {
		return nil, nil, fmt.Errorf("node: open %s store in %s: %w", backend, dataDir, err)
	}
	if !checked {
		head, _, err := ledger.ReadHead(db)
		if err == nil {
			err = wm.check(home, dataDir, head.Height, false, allowRollback, log)
		}
		if err != nil {
			db.Close()
			return nil, nil, err
		}
	}
	return db, wm, nil
}

// check refuses a store at height head (empty: no store files at all) behind the watermark,
// unless allowRollback.
func (w *watermark) check(home, dataDir string, head uint64, empty, allowRollback bool, log *slog.Logger) error {
	if head >= w.height {
		return nil
	}
	if allowRollback {
		log.Warn("starting from a store behind the watermark, as --allow-rollback asks: the blocks above the store's height are gone from this node",
			"store_height", head, "watermark", w.height, "data_dir", dataDir)
		return nil
	}
	path := filepath.Join(home, WatermarkFile)
	if empty {
		return fmt.Errorf("%w: %s holds no store, but this node committed blocks up to height %d (%s). "+
			"Starting would begin the chain again from genesis. Restore the data directory from a backup; "+
			"or, to start over and lose those blocks on this node, start once with --allow-rollback",
			ErrStoreBehind, dataDir, w.height, path)
	}
	return fmt.Errorf("%w: the store in %s is at height %d, but this node committed blocks up to height %d (%s). "+
		"The store lost blocks: a damaged or cut write-ahead log, or a data directory restored from an older backup. "+
		"Restore the data directory from a backup at height %d or later; or, to carry on from height %d and lose the "+
		"blocks above it on this node (a validator of a multi-validator network fetches them again from its peers), "+
		"start once with --allow-rollback",
		ErrStoreBehind, dataDir, head, w.height, path, w.height, head)
}

// readStoreHead opens the store in dataDir read-only and reads its head height.
func readStoreHead(backend, dataDir string, opts *store.Options) (uint64, error) {
	ro := *opts
	ro.ReadOnly = true
	db, err := backends.Open(backend, dataDir, &ro)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	head, _, err := ledger.ReadHead(db)
	return head.Height, err
}

// storeFilePatterns match the files of a pebble or a badger store.
var storeFilePatterns = []string{
	"CURRENT", "MANIFEST*", "OPTIONS-*", "marker.*", "*.sst", "*.log", // pebble
	"KEYREGISTRY", "DISCARD", "*.vlog", "*.mem", // badger (and MANIFEST, *.sst)
}

// hasStoreFiles reports whether dir holds any file of a store. Other files do not count: the
// node's own (the evidence log, a signed state not yet migrated), or a file system's
// lost+found when the data directory is a mount point.
func hasStoreFiles(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("node: data directory: %w", err)
	}
	for _, e := range entries {
		for _, p := range storeFilePatterns {
			if ok, _ := filepath.Match(p, e.Name()); ok {
				return true, nil
			}
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

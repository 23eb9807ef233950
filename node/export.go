package node

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/loyal-ledger/loyal/audit/export"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
	"github.com/loyal-ledger/loyal/internal/fsutil"
)

// Exported says what Export wrote.
type Exported struct {
	Genesis   chain.Hash
	Height    uint64 // of the last block: blocks 1 to Height were written
	Txs       uint64
	Canonical bool // the last block's certificate is the one the next block carries
}

// Export writes the chain of the stopped node at home to w (audit/export's format): its
// genesis, blocks 1 to `to` (0: to the head) and the certificate of the last one — the
// canonical one carried by the block after it, or for the head the certificate this node
// gathered. The store is opened with the checks of a start (a store behind the blocks this
// node committed is refused), so a running node's store, locked by it, cannot be read.
func Export(home string, w io.Writer, to uint64, log *slog.Logger) (Exported, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg, err := LoadConfig(home)
	if err != nil {
		return Exported{}, err
	}
	g, err := loadHomeGenesis(home)
	if err != nil {
		return Exported{}, err
	}
	db, _, l, _, err := openLedger(home, cfg, g, false, log)
	if err != nil {
		return Exported{}, err
	}
	defer db.Close()
	head := l.Head().Height
	if to == 0 {
		to = head
	}
	if to > head {
		return Exported{}, fmt.Errorf("node: export to height %d: the store's head is %d", to, head)
	}
	return exportLedger(l, w, to)
}

// exportLedger writes l's chain up to height to.
func exportLedger(l *ledger.Ledger, w io.Writer, to uint64) (Exported, error) {
	g := l.Genesis()
	ew, err := export.NewWriter(w, g)
	if err != nil {
		return Exported{}, err
	}
	out := Exported{Genesis: g.Hash(), Height: to}
	for h := uint64(1); h <= to; h++ {
		blk, err := l.Block(h)
		if err != nil {
			return Exported{}, fmt.Errorf("node: export block %d: %w", h, err)
		}
		if err := ew.Block(blk); err != nil {
			return Exported{}, err
		}
		out.Txs += uint64(len(blk.Txs))
	}
	var final *chain.Commit
	switch {
	case to == 0:
	case to < l.Head().Height:
		next, err := l.Block(to + 1)
		if err != nil {
			return Exported{}, fmt.Errorf("node: export block %d: %w", to+1, err)
		}
		final, out.Canonical = next.LastCommit, true
	default:
		if final, err = l.SeenCommit(to); err != nil {
			return Exported{}, fmt.Errorf("node: export the certificate of block %d: %w", to, err)
		}
	}
	return out, ew.Finish(final)
}

// ExportFile is Export to the file out, which appears only once the export is whole.
func ExportFile(home, out string, to uint64, log *slog.Logger) (Exported, error) {
	f, err := fsutil.CreateAtomic(out, 0o644)
	if err != nil {
		return Exported{}, fmt.Errorf("node: export: %w", err)
	}
	defer f.Abort()
	res, err := Export(home, f, to, log)
	if err != nil {
		return Exported{}, err
	}
	if err := f.Commit(); err != nil {
		return Exported{}, fmt.Errorf("node: export: %w", err)
	}
	return res, nil
}

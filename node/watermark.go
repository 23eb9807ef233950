package node

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"

	"github.com/loyal-ledger/loyal/internal/fsutil"
)

// WatermarkFile, in the home directory, holds the height of the last block this node is known
// to have committed. It lives outside the data directory on purpose: it is the node's memory
// of how far its store reached, to catch a store that lost blocks (a damaged or cut
// write-ahead log, a data directory restored from an old backup, or emptied) instead of
// silently carrying on from an older height or from genesis.
const WatermarkFile = "head.watermark"

// ErrBadWatermark marks a watermark file that exists but holds no valid record.
var ErrBadWatermark = errors.New("node: bad watermark file")

// The watermark file is two slots of watermarkSlot bytes, written alternately, each
// "LOYALWM1" ‖ height (8 bytes, big-endian) ‖ CRC-32C of the 16 bytes before it. A write torn
// by a crash damages at most the slot being written; the other still holds the height before
// it, so one fsync per block is enough (no temporary file, rename and directory sync).
const (
	watermarkSlot  = 32
	watermarkMagic = "LOYALWM1"
)

var watermarkCRC = crc32.MakeTable(crc32.Castagnoli)

// watermark is the committed-height watermark of a home. Only the goroutine committing blocks
// advances it.
type watermark struct {
	path   string
	height uint64
	slot   int64 // the slot the next write goes to
	found  bool  // the file exists
}

// loadWatermark reads path. found is false if the file does not exist (a new home, or one
// made before watermarks existed); a file with no valid slot is ErrBadWatermark.
func loadWatermark(path string) (w *watermark, found bool, err error) {
	w = &watermark{path: path}
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return w, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("%w: %v", ErrBadWatermark, err)
	}
	valid := false
	for s := int64(0); s < 2 && (s+1)*watermarkSlot <= int64(len(raw)); s++ {
		h, ok := decodeWatermarkSlot(raw[s*watermarkSlot : (s+1)*watermarkSlot])
		if ok && (!valid || h > w.height) {
			w.height, w.slot, valid = h, 1-s, true
		}
	}
	if !valid {
		return nil, false, fmt.Errorf("%w: %s holds no valid record; if the store is intact, remove it and the node writes it again from the store's height", ErrBadWatermark, path)
	}
	return w, true, nil
}

func decodeWatermarkSlot(b []byte) (uint64, bool) {
	if string(b[:8]) != watermarkMagic || binary.BigEndian.Uint32(b[16:20]) != crc32.Checksum(b[:16], watermarkCRC) {
		return 0, false
	}
	return binary.BigEndian.Uint64(b[8:16]), true
}

func encodeWatermarkSlot(h uint64) []byte {
	b := make([]byte, watermarkSlot)
	copy(b, watermarkMagic)
	binary.BigEndian.PutUint64(b[8:16], h)
	binary.BigEndian.PutUint32(b[16:20], crc32.Checksum(b[:16], watermarkCRC))
	return b
}

// Height is the last height recorded.
func (w *watermark) Height() uint64 { return w.height }

// Advance records that the block at height h is committed, durably before it returns. A
// height at or below the recorded one changes nothing.
func (w *watermark) Advance(h uint64) error {
	if h <= w.height {
		return nil
	}
	f, err := os.OpenFile(w.path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("node: advance the watermark to %d: %w", h, err)
	}
	_, err = f.WriteAt(encodeWatermarkSlot(h), w.slot*watermarkSlot)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("node: advance the watermark to %d: %w", h, err)
	}
	w.height, w.slot = h, 1-w.slot
	return nil
}

// reset replaces the file with h in both slots, durably: it creates the watermark of a home
// that had none, and lowers it when the operator accepted a store behind it.
func (w *watermark) reset(h uint64) error {
	if err := fsutil.WriteFileAtomic(w.path, append(encodeWatermarkSlot(h), encodeWatermarkSlot(h)...), 0o600); err != nil {
		return fmt.Errorf("node: write the watermark: %w", err)
	}
	w.height, w.slot = h, 0
	return nil
}

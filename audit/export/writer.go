package export

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"

	"github.com/loyal-ledger/loyal/chain"
)

// Writer writes an export: the genesis first (NewWriter), then every block from height 1 in
// order (Block), then the last block's certificate and the end (Finish). It buffers; nothing
// is complete until Finish returns nil. Not safe for concurrent use.
type Writer struct {
	w        *bufio.Writer
	genesis  *chain.Genesis
	height   uint64 // of the last block written
	last     chain.Hash
	finished bool
}

// NewWriter starts an export of the chain of g on w.
func NewWriter(w io.Writer, g *chain.Genesis) (*Writer, error) {
	raw, err := json.Marshal(g)
	if err != nil {
		return nil, fmt.Errorf("export: genesis: %w", err)
	}
	if len(raw) > maxGenesisBytes {
		return nil, fmt.Errorf("export: genesis of %d bytes exceeds %d", len(raw), maxGenesisBytes)
	}
	ew := &Writer{w: bufio.NewWriterSize(w, 1<<20), genesis: g}
	if _, err := ew.w.WriteString(Magic); err != nil {
		return nil, err
	}
	if err := ew.w.WriteByte(Version); err != nil {
		return nil, err
	}
	return ew, ew.record(tagGenesis, raw)
}

// Block writes the next block; it must be at the height after the last one written.
func (w *Writer) Block(blk *chain.Block) error {
	if w.finished {
		return fmt.Errorf("export: block %d after the end", blk.Header.Height)
	}
	if blk.Header.Height != w.height+1 {
		return fmt.Errorf("export: block %d written after block %d", blk.Header.Height, w.height)
	}
	raw := blk.Encode()
	if len(raw) > maxBlockRecord(w.genesis.Params) {
		return fmt.Errorf("export: block %d of %d bytes exceeds the genesis limit", blk.Header.Height, len(raw))
	}
	if err := w.record(tagBlock, raw); err != nil {
		return err
	}
	w.height, w.last = blk.Header.Height, blk.Hash()
	return nil
}

// Finish writes the certificate of the last block written and the end, and flushes. With no
// block written, c must be nil.
func (w *Writer) Finish(c *chain.Commit) error {
	if w.finished {
		return fmt.Errorf("export: finished twice")
	}
	switch {
	case w.height == 0 && c != nil:
		return fmt.Errorf("export: a certificate with no block")
	case w.height > 0 && c == nil:
		return fmt.Errorf("export: no certificate for block %d", w.height)
	case c != nil && (c.Height != w.height || c.BlockHash != w.last):
		return fmt.Errorf("export: the certificate is of block %d %s, the last block is %d %s", c.Height, c.BlockHash, w.height, w.last)
	}
	if c != nil {
		if err := w.record(tagCertificate, c.Encode()); err != nil {
			return err
		}
	}
	if err := w.record(tagEnd, binary.BigEndian.AppendUint64(nil, w.height)); err != nil {
		return err
	}
	w.finished = true
	return w.w.Flush()
}

func (w *Writer) record(tag byte, payload []byte) error {
	var head [recordHeader]byte
	head[0] = tag
	binary.BigEndian.PutUint32(head[1:], uint32(len(payload)))
	if _, err := w.w.Write(head[:]); err != nil {
		return fmt.Errorf("export: write: %w", err)
	}
	if _, err := w.w.Write(payload); err != nil {
		return fmt.Errorf("export: write: %w", err)
	}
	return nil
}

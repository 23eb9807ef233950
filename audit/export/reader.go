package export

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/loyal-ledger/loyal/chain"
)

// Reader reads an export written by Writer, checking its structure as it goes (see the
// package comment); it holds one block at a time. Not safe for concurrent use.
type Reader struct {
	r        *bufio.Reader
	genesis  *chain.Genesis
	maxBlock int
	height   uint64 // of the last block read
	final    *chain.Commit
	done     bool
	err      error // sticky: the first error, returned by every later Next
}

// NewReader reads the header and the genesis of the export in r.
func NewReader(r io.Reader) (*Reader, error) {
	er := &Reader{r: bufio.NewReaderSize(r, 1<<20)}
	var head [len(Magic) + 1]byte
	if _, err := io.ReadFull(er.r, head[:]); err != nil {
		return nil, badf("the file is too short for an export header: %v", err)
	}
	if string(head[:len(Magic)]) != Magic {
		return nil, badf("not an export (magic %q)", head[:len(Magic)])
	}
	if v := head[len(Magic)]; v != Version {
		return nil, badf("export format version %d, this build reads version %d", v, Version)
	}
	tag, raw, err := er.record(maxGenesisBytes)
	if err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	if tag != tagGenesis {
		return nil, badf("the first record is %q, not the genesis", tag)
	}
	g, err := chain.ParseGenesis(raw)
	if err != nil {
		return nil, badf("genesis: %v", err)
	}
	// One spelling only: JSON admits others (an address's letter case, say) that parse to the
	// same genesis, and a byte changed so must not pass unnoticed.
	if canonical, err := json.Marshal(g); err != nil || !bytes.Equal(canonical, raw) {
		return nil, badf("genesis: not in its canonical JSON form")
	}
	er.genesis, er.maxBlock = g, maxBlockRecord(g.Params)
	return er, nil
}

// Genesis is the export's genesis. Whether it is the network the auditor means is for the
// caller to compare (its hash against a genesis file the auditor trusts).
func (r *Reader) Genesis() *chain.Genesis { return r.genesis }

// Height is the height of the last block Next returned.
func (r *Reader) Height() uint64 { return r.height }

// Next returns the next block, decoded (chain.DecodeBlock: the stateless checks of its
// transactions, tx root and last-commit hash), or io.EOF once the end record is read and
// found in agreement with the blocks. Any other error wraps ErrBadExport or chain's decoding
// errors and names the height.
func (r *Reader) Next() (*chain.Block, error) {
	if r.err != nil {
		return nil, r.err
	}
	if r.done {
		return nil, io.EOF
	}
	blk, err := r.next()
	if err != nil && err != io.EOF {
		r.err = err
	}
	return blk, err
}

func (r *Reader) next() (*chain.Block, error) {
	want := r.height + 1
	tag, raw, err := r.record(max(r.maxBlock, maxCertificateRecord, endRecord))
	if err != nil {
		return nil, fmt.Errorf("after block %d: %w", r.height, err)
	}
	switch tag {
	case tagBlock:
		if len(raw) > r.maxBlock {
			return nil, badf("block %d: record of %d bytes exceeds the genesis limit", want, len(raw))
		}
		blk, err := chain.DecodeBlock(raw)
		if err != nil {
			return nil, fmt.Errorf("block %d: %w", want, err)
		}
		if blk.Header.Height != want {
			return nil, badf("block %d: the record holds height %d (a block dropped, duplicated or out of order)", want, blk.Header.Height)
		}
		r.height = want
		return blk, nil
	case tagCertificate:
		if err := r.readFinal(raw); err != nil {
			return nil, err
		}
		tag, raw, err = r.record(endRecord)
		if err != nil {
			return nil, fmt.Errorf("after the certificate of block %d: %w", r.height, err)
		}
		if tag != tagEnd {
			return nil, badf("after the certificate of block %d: record %q, want the end", r.height, tag)
		}
		return nil, r.readEnd(raw)
	case tagEnd:
		if r.height > 0 {
			return nil, badf("block %d: the end comes without its certificate", r.height)
		}
		return nil, r.readEnd(raw)
	default:
		return nil, badf("block %d: record %q where a block or the end belongs", want, tag)
	}
}

func (r *Reader) readFinal(raw []byte) error {
	if r.height == 0 {
		return badf("a certificate with no block")
	}
	c, err := chain.DecodeCommit(raw)
	if err != nil {
		return fmt.Errorf("certificate of block %d: %w", r.height, err)
	}
	if c.Height != r.height {
		return badf("certificate of block %d: it is of height %d", r.height, c.Height)
	}
	r.final = c
	return nil
}

func (r *Reader) readEnd(raw []byte) error {
	if len(raw) != endRecord {
		return badf("end record of %d bytes", len(raw))
	}
	if n := binary.BigEndian.Uint64(raw); n != r.height {
		return badf("the end says %d blocks, the file holds %d", n, r.height)
	}
	if _, err := r.r.ReadByte(); err == nil {
		return badf("bytes after the end")
	} else if !errors.Is(err, io.EOF) {
		return fmt.Errorf("export: read: %w", err)
	}
	r.done = true
	return io.EOF
}

// Final is the certificate of the last block. Nil until Next has returned io.EOF, and for
// an export of no block.
func (r *Reader) Final() *chain.Commit { return r.final }

// record reads one record whose payload may be at most limit bytes.
func (r *Reader) record(limit int) (byte, []byte, error) {
	var head [recordHeader]byte
	if _, err := io.ReadFull(r.r, head[:]); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, nil, badf("the file ends without its end record (truncated)")
		}
		return 0, nil, fmt.Errorf("export: read: %w", err)
	}
	n := binary.BigEndian.Uint32(head[1:])
	if uint64(n) > uint64(limit) {
		return 0, nil, badf("record %q of %d bytes exceeds its limit of %d", head[0], n, limit)
	}
	raw := make([]byte, n)
	if _, err := io.ReadFull(r.r, raw); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return 0, nil, badf("record %q cut short (truncated)", head[0])
		}
		return 0, nil, fmt.Errorf("export: read: %w", err)
	}
	return head[0], raw, nil
}

func badf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadExport, fmt.Sprintf(format, args...))
}

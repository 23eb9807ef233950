package blocksync

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/loyal-ledger/loyal/chain"
)

// Wire format of the sync protocol (/loyal/sync/1.0.0). Requests are tiny and fixed-size;
// a blocks response is a count and, per block, the block's and its certificate's canonical
// encodings, each length-prefixed. Everything is decoded strictly.
const (
	version = 1

	tagStatusReq  = 's'
	tagBlocksReq  = 'b'
	tagStatusResp = 'S'
	tagBlocksResp = 'B'

	// MaxBlocksPerRequest bounds how many blocks one request may ask for.
	MaxBlocksPerRequest = 256
)

// ErrMalformed marks a sync message that is not canonical.
var ErrMalformed = errors.New("blocksync: malformed message")

// Status is what a peer says about its chain.
type Status struct {
	Height uint64
	Hash   chain.Hash
}

// BlockWithCommit is a block and the certificate that finalized it.
type BlockWithCommit struct {
	Block  *chain.Block
	Commit *chain.Commit
}

// EncodeStatusRequest asks a peer for its head.
func EncodeStatusRequest() []byte { return []byte{tagStatusReq, version} }

// EncodeBlocksRequest asks for count blocks from height on.
func EncodeBlocksRequest(from uint64, count int) []byte {
	b := []byte{tagBlocksReq, version}
	b = binary.BigEndian.AppendUint64(b, from)
	return binary.BigEndian.AppendUint16(b, uint16(count))
}

// Request is a decoded request: Status, or Blocks from From for Count.
type Request struct {
	Status bool
	From   uint64
	Count  int
}

// DecodeRequest decodes a request strictly.
func DecodeRequest(b []byte) (Request, error) {
	if len(b) < 2 || b[1] != version {
		return Request{}, fmt.Errorf("%w: bad header", ErrMalformed)
	}
	switch b[0] {
	case tagStatusReq:
		if len(b) != 2 {
			return Request{}, fmt.Errorf("%w: status request of %d bytes", ErrMalformed, len(b))
		}
		return Request{Status: true}, nil
	case tagBlocksReq:
		if len(b) != 12 {
			return Request{}, fmt.Errorf("%w: blocks request of %d bytes", ErrMalformed, len(b))
		}
		r := Request{From: binary.BigEndian.Uint64(b[2:]), Count: int(binary.BigEndian.Uint16(b[10:]))}
		if r.From == 0 || r.Count == 0 || r.Count > MaxBlocksPerRequest {
			return Request{}, fmt.Errorf("%w: blocks request from %d count %d", ErrMalformed, r.From, r.Count)
		}
		return r, nil
	default:
		return Request{}, fmt.Errorf("%w: unknown request tag %q", ErrMalformed, b[0])
	}
}

// EncodeStatus answers a status request.
func EncodeStatus(s Status) []byte {
	b := []byte{tagStatusResp, version}
	b = binary.BigEndian.AppendUint64(b, s.Height)
	return append(b, s.Hash[:]...)
}

// DecodeStatus decodes a status answer strictly.
func DecodeStatus(b []byte) (Status, error) {
	if len(b) != 2+8+32 || b[0] != tagStatusResp || b[1] != version {
		return Status{}, fmt.Errorf("%w: status answer", ErrMalformed)
	}
	var s Status
	s.Height = binary.BigEndian.Uint64(b[2:])
	copy(s.Hash[:], b[10:])
	return s, nil
}

// EncodedBlock is a block and its certificate, already encoded (as the ledger stores them).
type EncodedBlock struct {
	Block, Commit []byte
}

// EncodeBlocks answers a blocks request.
func EncodeBlocks(blocks []EncodedBlock) []byte {
	n := 4
	for _, b := range blocks {
		n += 8 + len(b.Block) + len(b.Commit)
	}
	out := make([]byte, 0, n)
	out = append(out, tagBlocksResp, version)
	out = binary.BigEndian.AppendUint16(out, uint16(len(blocks)))
	for _, b := range blocks {
		out = binary.BigEndian.AppendUint32(out, uint32(len(b.Block)))
		out = append(out, b.Block...)
		out = binary.BigEndian.AppendUint32(out, uint32(len(b.Commit)))
		out = append(out, b.Commit...)
	}
	return out
}

// DecodeBlocks decodes a blocks answer strictly, decoding every block and certificate (which
// bounds their fields); whether they are valid is for the caller to check.
func DecodeBlocks(b []byte) ([]BlockWithCommit, error) {
	if len(b) < 4 || b[0] != tagBlocksResp || b[1] != version {
		return nil, fmt.Errorf("%w: blocks answer header", ErrMalformed)
	}
	count := int(binary.BigEndian.Uint16(b[2:]))
	if count > MaxBlocksPerRequest {
		return nil, fmt.Errorf("%w: %d blocks in one answer", ErrMalformed, count)
	}
	rest := b[4:]
	next := func() ([]byte, error) {
		if len(rest) < 4 {
			return nil, fmt.Errorf("%w: truncated", ErrMalformed)
		}
		n := binary.BigEndian.Uint32(rest)
		if uint64(n) > uint64(len(rest)-4) {
			return nil, fmt.Errorf("%w: length %d past the end", ErrMalformed, n)
		}
		v := rest[4 : 4+n]
		rest = rest[4+n:]
		return v, nil
	}
	out := make([]BlockWithCommit, 0, count)
	for i := 0; i < count; i++ {
		rawBlock, err := next()
		if err != nil {
			return nil, err
		}
		rawCommit, err := next()
		if err != nil {
			return nil, err
		}
		blk, err := chain.DecodeBlock(rawBlock)
		if err != nil {
			return nil, fmt.Errorf("%w: block %d: %w", ErrMalformed, i, err)
		}
		c, err := chain.DecodeCommit(rawCommit)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate %d: %w", ErrMalformed, i, err)
		}
		out = append(out, BlockWithCommit{Block: blk, Commit: c})
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(rest))
	}
	return out, nil
}

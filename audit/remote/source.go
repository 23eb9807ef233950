package remote

import (
	"context"
	"fmt"
	"io"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/audit/export"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/internal/fsutil"
	"github.com/loyal-ledger/loyal/wallet"
)

// Source is a node's chain from height 1 to a fixed height, read in pages of blocks.
// It holds one page at a time. Not safe for concurrent use.
type Source struct {
	ctx     context.Context
	c       *wallet.Client
	genesis *chain.Genesis
	to      uint64
	page    []api.BlockInfo
	next    uint64 // height of the next block Next returns
	final   *chain.Commit
}

// Open reads the node's genesis and fixes the last height: to, or the node's head if to is
// 0. ctx bounds every later read.
func Open(ctx context.Context, c *wallet.Client, to uint64) (*Source, error) {
	return OpenFrom(ctx, c, 1, to)
}

// OpenFrom is Open starting at height from (after a checkpoint: verify.Options.Since).
func OpenFrom(ctx context.Context, c *wallet.Client, from, to uint64) (*Source, error) {
	g, err := c.Genesis(ctx)
	if err != nil {
		return nil, fmt.Errorf("remote: genesis: %w", err)
	}
	st, err := c.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("remote: status: %w", err)
	}
	if to == 0 {
		to = st.Height
	}
	if to > st.Height {
		return nil, fmt.Errorf("remote: height %d is past the node's head %d", to, st.Height)
	}
	if from == 0 || from > to+1 {
		return nil, fmt.Errorf("remote: from height %d past the node's height %d", from, to)
	}
	s := &Source{ctx: ctx, c: c, genesis: g, to: to, next: from}
	if from == to+1 && to > 0 { // nothing to read: the last block's certificate is all
		info, err := c.Block(ctx, to)
		if err != nil {
			return nil, fmt.Errorf("remote: block %d: %w", to, err)
		}
		s.final = info.Commit
	}
	return s, nil
}

// Genesis is the genesis the node serves.
func (s *Source) Genesis() *chain.Genesis { return s.genesis }

// To is the last height the source yields.
func (s *Source) To() uint64 { return s.to }

// Next returns the next block, or io.EOF after height To.
func (s *Source) Next() (*chain.Block, error) { return s.NextContext(s.ctx) }

// NextContext is Next bounded by ctx as well (the verifier's, which ends when it fails).
func (s *Source) NextContext(ctx context.Context) (*chain.Block, error) {
	if s.next > s.to {
		return nil, io.EOF
	}
	if err := context.Cause(s.ctx); err != nil {
		return nil, err
	}
	if len(s.page) == 0 {
		p, err := s.c.Blocks(ctx, s.next, s.to)
		if err != nil {
			return nil, fmt.Errorf("remote: blocks from %d: %w", s.next, err)
		}
		if len(p.Blocks) == 0 {
			return nil, fmt.Errorf("remote: the node sent no block from %d", s.next)
		}
		s.page = p.Blocks
	}
	info := s.page[0]
	s.page = s.page[1:]
	if info.Block == nil || info.Block.Header.Height != s.next {
		return nil, fmt.Errorf("remote: asked for block %d, the node sent another", s.next)
	}
	blk, err := decoded(info.Block)
	if err != nil {
		return nil, fmt.Errorf("remote: block %d: %w", s.next, err)
	}
	if s.next == s.to {
		s.final = info.Commit // canonical below the node's head, the node's own at its head
	}
	s.next++
	return blk, nil
}

// decoded is a block the node sent as JSON, put through the checks a block read from an
// export file gets (chain.DecodeBlock: every transaction's, the tx root, the last-commit
// hash): JSON admits what the binary form cannot hold, a null transaction say.
func decoded(b *chain.Block) (*chain.Block, error) {
	for i, tx := range b.Txs {
		if tx == nil {
			return nil, fmt.Errorf("%w: transaction %d is null", chain.ErrMalformed, i)
		}
	}
	return chain.DecodeBlock(b.Encode())
}

// Final is the certificate of block To as the node sent it (nil before Next returned
// io.EOF).
func (s *Source) Final() *chain.Commit {
	if s.next <= s.to {
		return nil
	}
	return s.final
}

// Export writes the node's chain to w (audit/export's format) and returns the last height.
// It checks the structure only; verify the file (or the node) to check the chain.
func Export(ctx context.Context, c *wallet.Client, w io.Writer, to uint64) (uint64, error) {
	src, err := Open(ctx, c, to)
	if err != nil {
		return 0, err
	}
	ew, err := export.NewWriter(w, src.Genesis())
	if err != nil {
		return 0, err
	}
	for {
		blk, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
		if err := ew.Block(blk); err != nil {
			return 0, err
		}
	}
	return src.To(), ew.Finish(src.Final())
}

// ExportFile is Export to the file path, which appears only once the export is whole.
func ExportFile(ctx context.Context, c *wallet.Client, path string, to uint64) (uint64, error) {
	f, err := fsutil.CreateAtomic(path, 0o644)
	if err != nil {
		return 0, fmt.Errorf("remote: export: %w", err)
	}
	defer f.Abort()
	height, err := Export(ctx, c, f, to)
	if err != nil {
		return 0, err
	}
	return height, f.Commit()
}

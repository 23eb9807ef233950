package blocksync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/ledger"
)

// Ledger is what the syncer reads and extends: the node's ledger.
type Ledger interface {
	Head() ledger.Head
	Block(height uint64) (*chain.Block, error)
	SeenCommit(height uint64) (*chain.Commit, error)
	RecoverSenders(txs []*chain.Tx) ([]chain.Address, error)
	ApplyBlockWithSenders(blk *chain.Block, senders []chain.Address, commit *chain.Commit) error
}

// Network is how the syncer reaches peers: the node's p2p host.
type Network interface {
	Request(ctx context.Context, to peer.ID, req []byte) ([]byte, error)
	Penalize(id peer.ID, reason string)
}

// Syncer serves blocks to peers and catches up from them. Serve is safe for concurrent use;
// CatchUp runs in one goroutine at a time (the node's).
type Syncer struct {
	// Applied, if set, is called after each block CatchUp applies, with its transactions'
	// senders and the time it took.
	Applied func(blk *chain.Block, senders []chain.Address, took time.Duration)

	l           Ledger
	net         Network
	log         *slog.Logger
	maxResponse int
	batch       int
}

// New makes a syncer. maxResponse bounds one answer in bytes (the p2p sync limit).
func New(l Ledger, net Network, log *slog.Logger, maxResponse int) *Syncer {
	return &Syncer{l: l, net: net, log: log, maxResponse: maxResponse, batch: MaxBlocksPerRequest}
}

// Serve answers one request of a peer.
func (s *Syncer) Serve(ctx context.Context, raw []byte) ([]byte, error) {
	req, err := DecodeRequest(raw)
	if err != nil {
		return nil, err
	}
	head := s.l.Head()
	if req.Status {
		return EncodeStatus(Status{Height: head.Height, Hash: head.Hash}), nil
	}
	var out []EncodedBlock
	size := 4
	var next *chain.Block // block h+1, read for h's certificate and kept as the next h
	for h := req.From; h < req.From+uint64(req.Count) && h <= head.Height; h++ {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		blk := next
		if blk == nil {
			if blk, err = s.l.Block(h); err != nil {
				return nil, err
			}
		}
		// The canonical certificate of h is in block h+1; the tip's is the one this node saw.
		var c *chain.Commit
		if h < head.Height {
			if next, err = s.l.Block(h + 1); err != nil {
				return nil, err
			}
			c = next.LastCommit
		} else if c, err = s.l.SeenCommit(h); err != nil {
			return nil, err
		}
		if c == nil {
			return nil, fmt.Errorf("blocksync: no certificate for block %d", h)
		}
		eb := EncodedBlock{Block: blk.Encode(), Commit: c.Encode()}
		if size += 8 + len(eb.Block) + len(eb.Commit); size > s.maxResponse && len(out) > 0 {
			break
		}
		out = append(out, eb)
	}
	return EncodeBlocks(out), nil
}

// PeerStatus is a peer's reported head.
type PeerStatus struct {
	Peer peer.ID
	Status
}

// Statuses asks each peer for its head; peers that fail to answer are left out.
func (s *Syncer) Statuses(ctx context.Context, peers []peer.ID) []PeerStatus {
	var out []PeerStatus
	for _, p := range peers {
		raw, err := s.net.Request(ctx, p, EncodeStatusRequest())
		if err != nil {
			continue
		}
		st, err := DecodeStatus(raw)
		if err != nil {
			s.net.Penalize(p, err.Error())
			continue
		}
		out = append(out, PeerStatus{Peer: p, Status: st})
	}
	return out
}

// ErrNoProgress means no peer could provide the next block.
var ErrNoProgress = errors.New("blocksync: no peer provided the next block")

// CatchUp fetches and applies blocks from peers until this node reaches target (or the
// highest height a peer reports, if target is 0). Every block is applied through the ledger,
// which checks its certificate against the validators in force at its height (RulesAt),
// re-executes it and checks its
// state root; a peer that serves a block or certificate that fails is penalized and the
// block is fetched from another. Progress is logged every few seconds with the height, the
// rate and an estimate of the time left. It returns the number of blocks applied.
func (s *Syncer) CatchUp(ctx context.Context, peers []peer.ID, target uint64) (int, error) {
	statuses := s.Statuses(ctx, peers)
	for _, st := range statuses {
		target = max(target, st.Height)
	}
	start, applied := time.Now(), 0
	startHeight := s.l.Head().Height
	lastLog := start
	bad := map[peer.ID]bool{}
	stalls := 0
	for s.l.Head().Height < target {
		if err := ctx.Err(); err != nil {
			return applied, err
		}
		next := s.l.Head().Height + 1
		progressed := false
		for _, st := range statuses {
			if bad[st.Peer] || st.Height < next {
				continue
			}
			n, err := s.fetchFrom(ctx, st.Peer, next, min(uint64(s.batch), target-next+1))
			applied += n
			if err != nil {
				if ctx.Err() != nil {
					return applied, ctx.Err()
				}
				s.log.Warn("sync: peer failed", "peer", st.Peer, "height", next, "err", err)
				if errors.Is(err, errBadBlock) {
					s.net.Penalize(st.Peer, err.Error())
					bad[st.Peer] = true
				}
			}
			if n > 0 {
				progressed = true
				break
			}
		}
		if !progressed {
			// Peers refuse requests over their rate limit and may be briefly unreachable:
			// back off and ask again before giving up.
			if stalls++; stalls > maxStalls {
				return applied, fmt.Errorf("%w at height %d (target %d)", ErrNoProgress, next, target)
			}
			select {
			case <-ctx.Done():
				return applied, ctx.Err()
			case <-time.After(time.Duration(stalls) * stallBackoff):
			}
			continue
		}
		stalls = 0
		if now := time.Now(); now.Sub(lastLog) >= 2*time.Second || s.l.Head().Height >= target {
			lastLog = now
			h := s.l.Head().Height
			rate := float64(h-startHeight) / now.Sub(start).Seconds()
			eta := time.Duration(0)
			if rate > 0 {
				eta = time.Duration(float64(target-h)/rate) * time.Second
			}
			s.log.Info("sync progress", "height", h, "target", target, "blocks_per_s", fmt.Sprintf("%.1f", rate), "eta", eta.Round(time.Second))
		}
	}
	return applied, nil
}

// A stalled catch-up (no peer gave the next block) is retried maxStalls times, waiting
// stallBackoff longer each time.
const (
	maxStalls    = 5
	stallBackoff = 250 * time.Millisecond
)

var errBadBlock = errors.New("blocksync: peer served an invalid block")

// fetchFrom requests count blocks from height from one peer and applies them in order.
func (s *Syncer) fetchFrom(ctx context.Context, p peer.ID, from, count uint64) (int, error) {
	raw, err := s.net.Request(ctx, p, EncodeBlocksRequest(from, int(count)))
	if err != nil {
		return 0, err
	}
	blocks, err := DecodeBlocks(raw)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", errBadBlock, err)
	}
	if len(blocks) == 0 {
		return 0, fmt.Errorf("%w: empty answer for height %d", errBadBlock, from)
	}
	for i, bc := range blocks {
		if bc.Block.Header.Height != from+uint64(i) {
			return i, fmt.Errorf("%w: asked height %d, got %d", errBadBlock, from+uint64(i), bc.Block.Header.Height)
		}
		start := time.Now()
		senders, err := s.l.RecoverSenders(bc.Block.Txs)
		if err == nil {
			err = s.l.ApplyBlockWithSenders(bc.Block, senders, bc.Commit)
		}
		if err != nil {
			if s.l.Head().Height >= bc.Block.Header.Height {
				continue // applied meanwhile by consensus: not the peer's fault
			}
			return i, fmt.Errorf("%w: height %d: %w", errBadBlock, bc.Block.Header.Height, err)
		}
		if s.Applied != nil {
			s.Applied(bc.Block, senders, time.Since(start))
		}
	}
	return len(blocks), nil
}

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

// Ledger is what the syncer reads: the node's ledger. The syncer never writes it: blocks it
// fetches go to an Applier.
type Ledger interface {
	Head() ledger.Head
	Block(height uint64) (*chain.Block, error)
	SeenCommit(height uint64) (*chain.Commit, error)
	RecoverSenders(txs []*chain.Tx) ([]chain.Address, error)
}

// Fetched is a block a peer served, with its certificate and its transactions' senders
// (recovered by the syncer, off the applier's goroutine). Nothing about it is checked yet
// beyond its height and its signatures' recovery.
type Fetched struct {
	Block   *chain.Block
	Commit  *chain.Commit
	Senders []chain.Address
}

// Applier commits fetched blocks: the node's one ledger writer, which checks each block's
// certificate, re-executes it and checks its state root. Apply commits blocks in order,
// skipping any at or below the ledger's head (committed meanwhile by consensus: not the peer's
// fault), and stops at the first that fails; it returns how many of blocks are now at or
// below the head, and the failure. It must return when ctx ends.
type Applier interface {
	Apply(ctx context.Context, blocks []Fetched) (int, error)
}

// Network is how the syncer reaches peers: the node's p2p host.
type Network interface {
	Request(ctx context.Context, to peer.ID, req []byte) ([]byte, error)
	Penalize(id peer.ID, reason string)
}

// Syncer serves blocks to peers and catches up from them. Serve is safe for concurrent use;
// CatchUp runs in one goroutine at a time (the node's).
type Syncer struct {
	l           Ledger
	apply       Applier
	net         Network
	log         *slog.Logger
	maxResponse int
	batch       int
}

// New makes a syncer that reads l, commits what it fetches through apply and reaches peers
// through net. maxResponse bounds one answer in bytes (the p2p sync limit).
func New(l Ledger, apply Applier, net Network, log *slog.Logger, maxResponse int) *Syncer {
	return &Syncer{l: l, apply: apply, net: net, log: log, maxResponse: maxResponse, batch: MaxBlocksPerRequest}
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

// CatchUp fetches blocks from peers and has the Applier commit them until this node reaches
// target (or the highest height a peer reports, if target is 0). The applier checks every
// block's certificate against the validators in force at its height (RulesAt), re-executes
// it and checks its state root; a peer that serves a block or certificate that fails is
// penalized and the block is fetched from another. Progress is logged every few seconds with the height, the
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
	batch := make([]Fetched, 0, len(blocks))
	for i, bc := range blocks {
		if bc.Block.Header.Height != from+uint64(i) {
			return 0, fmt.Errorf("%w: asked height %d, got %d", errBadBlock, from+uint64(i), bc.Block.Header.Height)
		}
		senders, err := s.l.RecoverSenders(bc.Block.Txs)
		if err != nil {
			return 0, fmt.Errorf("%w: height %d: %w", errBadBlock, bc.Block.Header.Height, err)
		}
		batch = append(batch, Fetched{Block: bc.Block, Commit: bc.Commit, Senders: senders})
	}
	n, err := s.apply.Apply(ctx, batch)
	if err != nil && ctx.Err() == nil && n < len(batch) {
		return n, fmt.Errorf("%w: height %d: %w", errBadBlock, batch[n].Block.Header.Height, err)
	}
	return n, err
}

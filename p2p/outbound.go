package p2p

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Send queues msg for one peer on a one-way protocol (ConsensusProtocol or TxsProtocol) and
// returns without waiting for the network. Delivery is best effort: the message is written
// on the peer's long-lived stream for the protocol, in order with the other messages queued
// for it; it is dropped (and counted in Stats) if the queue is full (ErrQueueFull) or no
// stream can take it, and is written at most twice (once more on a fresh stream when the old
// one failed), so receivers must tolerate loss and duplicates.
//
// The host keeps msg until it is written: the caller must not modify it after Send returns.
// ctx is checked on entry only. Send never dials: it returns ErrNotConnected for a peer the
// host is not connected to, and ErrNotAllowed for a peer not (or no longer) allowed.
func (h *Host) Send(ctx context.Context, to peer.ID, proto protocol.ID, msg []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := h.checkOneWay(proto, msg); err != nil {
		return err
	}
	ps := h.peer(to)
	if ps == nil {
		return ErrNotAllowed
	}
	if !h.Connected(to) {
		return ErrNotConnected
	}
	return h.enqueue(ps, proto, msg)
}

// Broadcast queues msg, as Send does, for every connected allowed peer, and returns how many
// peers it was queued for. A full queue drops the message for that peer only.
func (h *Host) Broadcast(ctx context.Context, proto protocol.ID, msg []byte) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := h.checkOneWay(proto, msg); err != nil {
		return 0, err
	}
	n := 0
	allowed := h.allowList()
	for _, id := range h.host.Network().Peers() {
		ps := allowed[id]
		if ps == nil {
			continue
		}
		switch err := h.enqueue(ps, proto, msg); {
		case err == nil:
			n++
		case errors.Is(err, ErrClosed):
			return n, err
		}
	}
	return n, nil
}

func (h *Host) checkOneWay(proto protocol.ID, msg []byte) error {
	if proto != ConsensusProtocol && proto != TxsProtocol {
		return fmt.Errorf("%w: %s is not a one-way protocol", ErrUnknownProtocol, proto)
	}
	switch max := h.limits[proto].MaxMessage; {
	case len(msg) == 0:
		return ErrEmptyMessage
	case len(msg) > max:
		return fmt.Errorf("%w: %d bytes, %s allows %d", ErrMessageTooLarge, len(msg), proto, max)
	}
	return nil
}

// Handle sets the handler of a one-way protocol (ConsensusProtocol or TxsProtocol); nil
// removes it. Messages that arrive while a protocol has no handler are dropped. Set handlers
// before Start so that no early message is lost.
func (h *Host) Handle(proto protocol.ID, fn Handler) error {
	var slot = &h.consensus
	switch proto {
	case ConsensusProtocol:
	case TxsProtocol:
		slot = &h.txs
	default:
		return fmt.Errorf("%w: %s is not a one-way protocol", ErrUnknownProtocol, proto)
	}
	if fn == nil {
		slot.Store(nil)
	} else {
		slot.Store(&fn)
	}
	return nil
}

type senderKey struct {
	peer  peer.ID
	proto protocol.ID
}

// sender owns one peer's outbound stream for one protocol and the queue feeding it. It runs
// in its own goroutine from the first Send until it has been idle for half the idle timeout,
// the peer is gone or no longer allowed, or the host closes.
type sender struct {
	h     *Host
	key   senderKey
	ps    *peerState
	stats *protoStats
	wake  chan struct{} // cap 1: the queue is not empty

	// queue and bytes are guarded by h.mu.
	queue [][]byte
	bytes int
}

// enqueue hands msg to the peer's sender, starting one if needed.
func (h *Host) enqueue(ps *peerState, proto protocol.ID, msg []byte) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.mu.closed:
		return ErrClosed
	case ps.ctx.Err() != nil: // SetAllowed removed the peer after the caller looked it up
		return ErrNotAllowed
	}
	key := senderKey{ps.id, proto}
	s := h.mu.senders[key]
	if s == nil {
		s = &sender{h: h, key: key, ps: ps, stats: h.stats.proto(proto), wake: make(chan struct{}, 1)}
		h.mu.senders[key] = s
		h.wg.Add(1)
		go s.run()
	}
	if len(s.queue) >= h.cfg.SendQueue || s.bytes+len(msg) > h.cfg.SendQueueBytes {
		s.stats.queueFull.Add(1)
		return ErrQueueFull
	}
	s.queue = append(s.queue, msg)
	s.bytes += len(msg)
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

// take empties the queue.
func (s *sender) take() [][]byte {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	q := s.queue
	s.queue, s.bytes = nil, 0
	return q
}

// retire removes the sender from the host, dropping what is queued if drop is set; without
// drop it refuses while messages are queued. It reports whether the sender may exit.
func (s *sender) retire(drop bool) bool {
	s.h.mu.Lock()
	defer s.h.mu.Unlock()
	if len(s.queue) > 0 {
		if !drop {
			return false
		}
		s.dropLocked()
	}
	// SetAllowed may have removed this sender already, and a new one may serve the peer
	// allowed again.
	if s.h.mu.senders[s.key] == s {
		delete(s.h.mu.senders, s.key)
	}
	return true
}

// dropLocked drops what is queued, counting it as failed. h.mu must be held.
func (s *sender) dropLocked() {
	s.stats.sendFailed.Add(uint64(len(s.queue)))
	s.queue, s.bytes = nil, 0
}

// dropSendersLocked removes the senders of a peer SetAllowed removed, dropping what is
// queued for it; their goroutines exit as the peer's context has ended. h.mu must be held.
func (h *Host) dropSendersLocked(id peer.ID) {
	for _, proto := range []protocol.ID{ConsensusProtocol, TxsProtocol} {
		key := senderKey{id, proto}
		if s := h.mu.senders[key]; s != nil {
			s.dropLocked()
			delete(h.mu.senders, key)
		}
	}
}

func (s *sender) run() {
	defer s.h.wg.Done()
	var out *outStream
	defer func() { out.close() }()
	idle := time.NewTimer(s.h.cfg.IdleTimeout / 2)
	defer idle.Stop()
	for {
		select {
		case <-s.ps.ctx.Done(): // the peer left the allow-list, or the host closes
			s.retire(true)
			return
		case <-out.doneChan():
			out.close()
			out = nil
			continue
		case <-idle.C:
			out.close()
			out = nil
			if s.retire(false) {
				return
			}
		case <-s.wake:
		}
		batch := s.take()
		if len(batch) > 0 {
			var err error
			if out, err = s.deliver(out, batch); err != nil {
				s.stats.sendFailed.Add(uint64(len(batch)))
				s.h.log.Debug("send failed", "remote", s.key.peer.String(), "protocol", s.key.proto, "messages", len(batch), "err", err)
				if !s.h.Connected(s.key.peer) && s.retire(true) {
					return
				}
			} else {
				s.stats.sent.Add(uint64(len(batch)))
			}
		}
		idle.Reset(s.h.cfg.IdleTimeout / 2)
	}
}

// deliver writes batch on out, opening a stream if out is nil, and on a write failure once
// more on a fresh stream (the old one may have been closed by the peer a moment ago). It
// returns the stream to keep, nil on failure.
func (s *sender) deliver(out *outStream, batch [][]byte) (*outStream, error) {
	var err error
	for range 2 {
		if out == nil {
			if out, err = s.open(); err != nil {
				return nil, err
			}
		}
		if err = out.write(batch, s.h.cfg.FrameTimeout); err == nil {
			return out, nil
		}
		out.reset()
		out = nil
	}
	return nil, err
}

func (s *sender) open() (*outStream, error) {
	ctx, cancel := context.WithTimeout(s.ps.ctx, s.h.cfg.DialTimeout)
	defer cancel()
	st, err := s.h.host.NewStream(network.WithNoDial(ctx, "loyal send"), s.key.peer, s.key.proto)
	if err != nil {
		return nil, err
	}
	out := &outStream{s: st, w: bufio.NewWriterSize(st, 64<<10), done: make(chan struct{})}
	s.h.wg.Add(1) // safe: this goroutine holds a count of its own
	go s.h.watch(out, s.ps)
	return out, nil
}

// outStream is a sender's stream. Its receiver never writes on it; a watcher goroutine reads
// it to learn when the receiver closes or resets it, and closes done.
type outStream struct {
	s    network.Stream
	w    *bufio.Writer
	done chan struct{}
}

// doneChan returns the channel closed when the stream ends; nil (never ready) for no stream.
func (o *outStream) doneChan() <-chan struct{} {
	if o == nil {
		return nil
	}
	return o.done
}

func (o *outStream) write(batch [][]byte, timeout time.Duration) error {
	for _, msg := range batch {
		_ = o.s.SetWriteDeadline(time.Now().Add(timeout))
		if err := writeFrame(o.w, msg); err != nil {
			return err
		}
	}
	return o.w.Flush()
}

func (o *outStream) close() {
	if o != nil {
		_ = o.s.Close()
	}
}

func (o *outStream) reset() {
	if o != nil {
		_ = o.s.Reset()
	}
}

// watch reads an outbound one-way stream until it ends, then closes out.done. The receiver
// must not write: any byte is a violation. The read deadline is re-armed while the stream
// is silent, since the sender closes it when idle.
func (h *Host) watch(out *outStream, ps *peerState) {
	defer h.wg.Done()
	defer close(out.done)
	var b [1]byte
	for {
		_ = out.s.SetReadDeadline(time.Now().Add(h.cfg.IdleTimeout))
		n, err := out.s.Read(b[:])
		switch {
		case n > 0:
			_ = out.s.Reset()
			h.stats.proto(out.s.Protocol()).malformed.Add(1)
			h.charge(ps, kindMalformed, errors.New("receiver wrote on a one-way stream"))
			return
		case err == nil || isTimeout(err):
			continue
		case errors.Is(err, io.EOF):
			return
		default:
			return
		}
	}
}

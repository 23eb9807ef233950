package p2p

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// A sync stream carries one request frame and one response frame. The response frame's
// first byte is a status: statusOK followed by the response, or statusError followed by the
// handler's error text (UTF-8, at most maxErrorText bytes).
const (
	statusOK    byte = 0
	statusError byte = 1

	maxErrorText = 256
)

// HandleRequests sets the handler of sync requests; nil removes it. A request that arrives
// while there is no handler is refused with a RemoteError.
func (h *Host) HandleRequests(fn RequestHandler) {
	if fn == nil {
		h.sync.Store(nil)
	} else {
		h.sync.Store(&fn)
	}
}

// Request sends a sync request to a connected peer and waits for its response, until ctx
// ends or Config.RequestTimeout passes. It fails with ErrNotConnected without dialing, with
// a *RemoteError if the peer's handler refused, and with ErrBadResponse (the peer is
// charged a violation) if the response breaks the protocol or exceeds
// Config.Sync.MaxResponse.
func (h *Host) Request(ctx context.Context, to peer.ID, req []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	max := h.limits[SyncProtocol].MaxMessage
	switch {
	case len(req) == 0:
		return nil, ErrEmptyMessage
	case len(req) > max:
		return nil, fmt.Errorf("%w: %d bytes, sync allows %d", ErrMessageTooLarge, len(req), max)
	}
	ps := h.peer(to)
	if ps == nil {
		return nil, ErrNotAllowed
	}
	if !h.Connected(to) {
		return nil, ErrNotConnected
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.RequestTimeout)
	defer cancel()
	s, err := h.host.NewStream(network.WithNoDial(ctx, "loyal sync"), to, SyncProtocol)
	if err != nil {
		return nil, requestError(ctx, to, err)
	}
	// A cancelled context unblocks the reads and writes below by resetting the stream.
	stop := context.AfterFunc(ctx, func() { _ = s.Reset() })
	defer stop()
	deadline, _ := ctx.Deadline()
	_ = s.SetDeadline(deadline)

	w := bufio.NewWriter(s)
	if err := writeFrame(w, req); err != nil {
		_ = s.Reset()
		return nil, requestError(ctx, to, err)
	}
	if err := w.Flush(); err != nil {
		_ = s.Reset()
		return nil, requestError(ctx, to, err)
	}
	if err := s.CloseWrite(); err != nil {
		_ = s.Reset()
		return nil, requestError(ctx, to, err)
	}
	resp, err := readFrame(bufio.NewReader(s), s, h.cfg.Sync.MaxResponse+1, 0, 0) // deadline set above
	if err != nil {
		_ = s.Reset()
		var fe *frameError
		if errors.As(err, &fe) && fe.kind != kindStalled {
			h.stats.frameError(SyncProtocol, fe.kind)
			h.charge(ps, fe.kind, err)
			return nil, fmt.Errorf("%w from %s: %v", ErrBadResponse, to, err)
		}
		return nil, requestError(ctx, to, err)
	}
	_ = s.Close()
	if ps.ctx.Err() != nil && h.ctx.Err() == nil { // removed by SetAllowed meanwhile
		return nil, fmt.Errorf("p2p: sync request to %s: %w", to, ErrNotAllowed)
	}
	switch resp[0] {
	case statusOK:
		h.stats.sync.sent.Add(1)
		return resp[1:], nil
	case statusError:
		if len(resp) <= 1+maxErrorText && utf8.Valid(resp[1:]) {
			return nil, &RemoteError{Message: string(resp[1:])}
		}
	}
	h.stats.sync.malformed.Add(1)
	h.charge(ps, kindMalformed, errors.New("bad sync response status"))
	return nil, fmt.Errorf("%w from %s: bad status", ErrBadResponse, to)
}

// requestError prefers the context's error, which is usually why the stream failed.
func requestError(ctx context.Context, to peer.ID, err error) error {
	var fe *frameError
	switch {
	case ctx.Err() != nil:
		err = ctx.Err()
	case errors.Is(err, errIdle), errors.As(err, &fe): // the stream's deadline is ctx's
		err = context.DeadlineExceeded
	}
	return fmt.Errorf("p2p: sync request to %s: %w", to, err)
}

// serveSync serves one sync request in this goroutine (lent by libp2p): it reads the
// request, asks the handler and writes the response.
func (h *Host) serveSync(s network.Stream) {
	ps := h.peer(s.Conn().RemotePeer())
	if ps == nil || !h.enter() {
		_ = s.Reset()
		return
	}
	defer h.wg.Done()
	if !ps.inbound[SyncProtocol].Allow() {
		h.stats.sync.rateLimited.Add(1)
		h.charge(ps, kindRate, errors.New(string(SyncProtocol)))
		_ = s.Reset()
		return
	}
	req, err := readFrame(bufio.NewReader(s), s, h.cfg.Sync.MaxMessage, h.cfg.FrameTimeout, h.cfg.FrameTimeout)
	if err != nil {
		if errors.Is(err, errIdle) { // no request at all: a stalled frame
			err = &frameError{kindStalled}
		}
		h.endStream(s, ps, err)
		return
	}
	if ps.ctx.Err() != nil { // removed by SetAllowed (or closing): drop what was in flight
		_ = s.Reset()
		return
	}
	h.stats.sync.received.Add(1)

	status, body := statusOK, []byte(nil)
	if resp, err := h.answer(ps, req); err != nil {
		status, body = statusError, []byte(strings.ToValidUTF8(truncate(err.Error(), maxErrorText), ""))
	} else {
		body = resp
	}
	_ = s.SetWriteDeadline(time.Now().Add(h.cfg.FrameTimeout))
	w := bufio.NewWriter(s)
	_, _ = w.Write(binary.AppendUvarint(nil, uint64(1+len(body))))
	_ = w.WriteByte(status)
	_, _ = w.Write(body)
	if err := w.Flush(); err != nil { // a bufio.Writer keeps its first error
		_ = s.Reset()
		return
	}
	_ = s.Close()
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// answer runs the request handler, bounding its time and its response. The handler's context
// also ends if the peer leaves the allow-list.
func (h *Host) answer(ps *peerState, req []byte) ([]byte, error) {
	fn := h.sync.Load()
	if fn == nil {
		return nil, errors.New("sync not served")
	}
	ctx, cancel := context.WithTimeout(ps.ctx, h.cfg.RequestTimeout)
	defer cancel()
	resp, err := (*fn)(ctx, ps.id, ps.addr, req)
	if err != nil {
		return nil, err
	}
	if len(resp) > h.cfg.Sync.MaxResponse {
		h.log.Error("sync response above the limit", "bytes", len(resp), "limit", h.cfg.Sync.MaxResponse)
		return nil, errors.New("response too large")
	}
	return resp, nil
}

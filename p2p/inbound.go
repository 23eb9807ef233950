package p2p

import (
	"bufio"
	"errors"
	"io"

	"github.com/libp2p/go-libp2p/core/network"
)

// serveOneWay reads the frames of an inbound consensus or txs stream and hands each to the
// protocol's handler, in this goroutine (lent by libp2p), until the stream ends, idles out,
// breaks the protocol or its peer leaves the allow-list.
func (h *Host) serveOneWay(s network.Stream) {
	ps := h.peer(s.Conn().RemotePeer())
	if ps == nil || !h.enter() { // the gater admits only allowed peers; this is a backstop
		_ = s.Reset()
		return
	}
	defer h.wg.Done()
	proto := s.Protocol()
	limits, st := h.limits[proto], h.stats.proto(proto)
	handler := &h.consensus
	if proto == TxsProtocol {
		handler = &h.txs
	}
	bucket := ps.inbound[proto]
	r := bufio.NewReader(s)
	for {
		msg, err := readFrame(r, s, limits.MaxMessage, h.cfg.IdleTimeout, h.cfg.FrameTimeout)
		if err != nil {
			h.endStream(s, ps, err)
			return
		}
		if ps.ctx.Err() != nil { // removed by SetAllowed (or closing): drop what was in flight
			_ = s.Reset()
			return
		}
		if !bucket.Allow() {
			st.rateLimited.Add(1)
			if h.charge(ps, kindRate, errors.New(string(proto))) { // banned: stop reading
				_ = s.Reset()
				return
			}
			continue
		}
		st.received.Add(1)
		if fn := handler.Load(); fn != nil {
			(*fn)(ps.id, ps.addr, msg)
		}
	}
}

// endStream closes an inbound stream after readFrame failed with err: gracefully if the peer
// ended it or let it idle, with a reset otherwise, charging the peer for a frame that broke
// the protocol. The accounting comes first, so that it is done when the peer sees the reset.
func (h *Host) endStream(s network.Stream, ps *peerState, err error) {
	var fe *frameError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, errIdle):
		_ = s.Close()
	case errors.As(err, &fe):
		h.stats.frameError(s.Protocol(), fe.kind)
		h.charge(ps, fe.kind, err)
		_ = s.Reset()
	default:
		_ = s.Reset()
	}
}

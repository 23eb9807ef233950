package p2p

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"slices"
	"time"
)

// maxFrame caps every configured message limit: a frame length is a uvarint of at most
// four bytes.
const maxFrame = 1 << 28

// A frame is a uvarint length (minimally encoded, non-zero) followed by that many bytes.

// violation kinds, as counted and logged.
const (
	kindOversize  = "oversize"
	kindMalformed = "malformed"
	kindStalled   = "stalled"
	kindRate      = "rate"
	kindPenalty   = "penalty"
)

// frameError is a frame that breaks the protocol: the stream is reset and the peer charged.
type frameError struct{ kind string }

func (e *frameError) Error() string { return "p2p: " + e.kind + " frame" }

// errIdle is a stream that stayed silent between frames past its idle deadline.
var errIdle = errors.New("p2p: stream idle")

// deadliner is the part of a stream readFrame needs to arm its deadlines.
type deadliner interface {
	SetReadDeadline(time.Time) error
}

// writeFrame writes msg as one frame.
func writeFrame(w *bufio.Writer, msg []byte) error {
	var pre [binary.MaxVarintLen64]byte
	if _, err := w.Write(binary.AppendUvarint(pre[:0], uint64(len(msg)))); err != nil {
		return err
	}
	_, err := w.Write(msg)
	return err
}

// readFrame reads one frame of at most max bytes from r, which buffers the stream d. It waits
// up to idle for the frame to begin (io.EOF or errIdle if none does) and up to body for the
// rest of it; a zero duration leaves the stream's deadline as it is. It returns a *frameError for a frame that breaks the protocol, and otherwise the
// stream's error.
func readFrame(r *bufio.Reader, d deadliner, max int, idle, body time.Duration) ([]byte, error) {
	if idle > 0 {
		_ = d.SetReadDeadline(time.Now().Add(idle))
	}
	first, err := r.ReadByte()
	if err != nil {
		if isTimeout(err) {
			return nil, errIdle
		}
		return nil, err
	}
	if body > 0 {
		_ = d.SetReadDeadline(time.Now().Add(body))
	}
	n, err := readLength(r, first)
	if err != nil {
		return nil, err
	}
	if n > uint64(max) {
		return nil, &frameError{kindOversize}
	}
	// Grow the buffer as bytes arrive, so a peer that announces a large frame and stalls
	// does not pin its full size.
	msg := make([]byte, 0, min(int(n), 64<<10))
	for len(msg) < int(n) {
		if len(msg) == cap(msg) {
			msg = slices.Grow(msg, min(int(n)-len(msg), cap(msg)))
		}
		k, err := r.Read(msg[len(msg):min(cap(msg), int(n))])
		msg = msg[:len(msg)+k]
		if err != nil && len(msg) < int(n) {
			return nil, bodyError(err)
		}
	}
	return msg, nil
}

// readLength finishes reading a frame's uvarint length whose first byte is first.
func readLength(r io.ByteReader, first byte) (uint64, error) {
	x := uint64(first & 0x7f)
	b := first
	for i := 1; b&0x80 != 0; i++ {
		if i == 4 { // a fifth byte would exceed maxFrame
			return 0, &frameError{kindOversize}
		}
		var err error
		if b, err = r.ReadByte(); err != nil {
			return 0, bodyError(err)
		}
		if b == 0 { // not minimal
			return 0, &frameError{kindMalformed}
		}
		x |= uint64(b&0x7f) << (7 * i)
	}
	if x == 0 {
		return 0, &frameError{kindMalformed}
	}
	return x, nil
}

// bodyError classifies an error met inside a frame: the end of the stream there is a
// malformed frame, a deadline a stalled one.
func bodyError(err error) error {
	switch {
	case errors.Is(err, io.EOF):
		return &frameError{kindMalformed}
	case isTimeout(err):
		return &frameError{kindStalled}
	}
	return err
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

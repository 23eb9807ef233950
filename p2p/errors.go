package p2p

import (
	"errors"
	"fmt"
)

// Sentinel errors. Callers test them with errors.Is.
var (
	// ErrNotSecp256k1 is returned when a key or peer id is not a secp256k1 key: every Loyal
	// peer is named by its secp256k1 key so that its id maps to a chain address.
	ErrNotSecp256k1 = errors.New("p2p: key is not secp256k1")
	// ErrBadPubKey is returned for a public key that is not a valid 33-byte compressed
	// secp256k1 key.
	ErrBadPubKey = errors.New("p2p: bad public key")
	// ErrAddressMismatch is returned when a validator's address is not the one its public key
	// derives.
	ErrAddressMismatch = errors.New("p2p: address does not match the public key")
	// ErrNotAllowed is returned for a peer that is not on the allow-list.
	ErrNotAllowed = errors.New("p2p: peer not on the allow-list")
	// ErrNotConnected is returned by Send and Request when there is no connection to the peer.
	// They never dial: the host keeps the connections it can (see Config.Bootstrap).
	ErrNotConnected = errors.New("p2p: peer not connected")
	// ErrUnknownProtocol is returned for a protocol the call does not serve.
	ErrUnknownProtocol = errors.New("p2p: unknown protocol")
	// ErrMessageTooLarge is returned for a message above the protocol's size limit.
	ErrMessageTooLarge = errors.New("p2p: message too large")
	// ErrEmptyMessage is returned for a zero-length message; the wire has no empty frames.
	ErrEmptyMessage = errors.New("p2p: empty message")
	// ErrQueueFull is returned by Send when the peer's send queue is full: the message is
	// dropped rather than blocking the caller.
	ErrQueueFull = errors.New("p2p: send queue full")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("p2p: host closed")
	// ErrStarted is returned by a second Start.
	ErrStarted = errors.New("p2p: host already started")
	// ErrBadResponse is returned by Request when the peer's response violates the protocol.
	ErrBadResponse = errors.New("p2p: malformed response")
)

// RemoteError is a sync request that the peer received and refused: its request handler
// returned an error, whose text it carries (at most maxErrorText bytes).
type RemoteError struct {
	Message string
}

func (e *RemoteError) Error() string { return fmt.Sprintf("p2p: peer refused request: %s", e.Message) }

package backend

import "sync/atomic"

// Gate counts the calls in progress on a DB so that Close can wait for them
// and every call that starts after Close fails with ErrClosed. It is lock-free
// on the fast path so concurrent readers do not contend on a mutex, and it
// allows a call to start inside another (Get inside an Iterate callback)
// without the deadlock a sync.RWMutex would risk.
type Gate struct {
	// state holds closedBit once Close has begun, plus the number of calls in
	// progress (including, transiently, calls that are about to fail).
	state atomic.Int64
	// idle receives a token when the count drops to zero after closedBit is
	// set. It has capacity 1 and is only ever sent to without blocking.
	idle chan struct{}
}

const closedBit = int64(1) << 62

func NewGate() *Gate { return &Gate{idle: make(chan struct{}, 1)} }

// Enter registers a call. It returns false, registering nothing, if Close has
// begun. Every true result must be paired with Exit.
func (g *Gate) Enter() bool {
	if g.state.Add(1)&closedBit != 0 {
		g.Exit()
		return false
	}
	return true
}

// Exit ends a call registered by enter.
func (g *Gate) Exit() {
	if g.state.Add(-1) == closedBit {
		select {
		case g.idle <- struct{}{}:
		default:
		}
	}
}

// Close makes later Enter calls fail and waits until the calls in progress
// have exited. It returns false if Close was already called.
func (g *Gate) Close() bool {
	old := g.state.Or(closedBit)
	if old&closedBit != 0 {
		return false
	}
	if old != 0 {
		// Once closedBit is set no call can enter for good, so the first time
		// the count reaches zero all calls in progress have exited.
		<-g.idle
	}
	return true
}

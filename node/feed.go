package node

import (
	"context"
	"sync"
)

// commitFeed lets API requests wait for the next committed block without polling: each
// commit closes the channel the waiters hold and makes a new one.
type commitFeed struct {
	mu     sync.Mutex
	height uint64
	next   chan struct{}
}

func newCommitFeed(height uint64) *commitFeed {
	return &commitFeed{height: height, next: make(chan struct{})}
}

// committed announces a new height.
func (f *commitFeed) committed(height uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.height = height
	close(f.next)
	f.next = make(chan struct{})
}

// changed returns a channel closed at the next commit.
func (f *commitFeed) changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.next
}

// waitFor blocks until cond holds, re-checking it after every commit, or ctx ends.
func (f *commitFeed) waitFor(ctx context.Context, cond func() (bool, error)) error {
	for {
		ch := f.changed() // before checking, so a commit between the check and the wait is seen
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

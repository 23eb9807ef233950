package node

import (
	"sync"
	"time"
)

// timerSet runs functions after delays and stops those still pending when its owner stops,
// so no timer outlives the driver.
type timerSet struct {
	mu      sync.Mutex
	pending map[*time.Timer]struct{}
	done    chan struct{} // closed by stop
}

// init makes the set usable; call it with mu held.
func (s *timerSet) init() {
	if s.done == nil {
		s.done = make(chan struct{})
		s.pending = map[*time.Timer]struct{}{}
	}
}

// after runs fn once d has passed, unless stop is called first; fn is given a channel closed
// when stop is called, so that it never blocks past its owner.
func (s *timerSet) after(d time.Duration, fn func(stopped <-chan struct{})) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	select {
	case <-s.done:
		return
	default:
	}
	done := s.done
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		s.mu.Lock()
		_, live := s.pending[t]
		delete(s.pending, t)
		s.mu.Unlock()
		if live {
			fn(done)
		}
	})
	s.pending[t] = struct{}{}
}

// stop cancels every pending timer; later calls to after do nothing.
func (s *timerSet) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	select {
	case <-s.done:
		return
	default:
		close(s.done)
	}
	for t := range s.pending {
		t.Stop()
	}
	clear(s.pending)
}

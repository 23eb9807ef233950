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
	stopped bool
}

// after runs fn once d has passed, unless stop is called first.
func (s *timerSet) after(d time.Duration, fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return
	}
	if s.pending == nil {
		s.pending = map[*time.Timer]struct{}{}
	}
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		s.mu.Lock()
		_, live := s.pending[t]
		delete(s.pending, t)
		s.mu.Unlock()
		if live {
			fn()
		}
	})
	s.pending[t] = struct{}{}
}

// stop cancels every pending timer; later calls to after do nothing.
func (s *timerSet) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	for t := range s.pending {
		t.Stop()
	}
	clear(s.pending)
}

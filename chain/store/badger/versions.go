package badger

import "sync"

// badgerVersions hands out badger's read timestamps and decides which old
// versions badger may drop.
//
// The badger backend runs badger in managed mode: every committed batch is
// one version, numbered in commit order, and every read reads at the version
// committed last when it began. A batch's entries can therefore sit in
// badger's memtable before its version is published, invisible to readers
// until all of them are there. Badger keeps every version newer than its
// discard timestamp, so that timestamp must never pass the oldest version a
// reader still reads at; readers register here for that.
type badgerVersions struct {
	mu        sync.Mutex
	committed uint64         // the last published version
	readers   map[uint64]int // read timestamps in use → readers at each
}

func newBadgerVersions(committed uint64) *badgerVersions {
	return &badgerVersions{committed: committed, readers: make(map[uint64]int)}
}

// acquire registers a reader at the last published version and returns it.
// Every acquire must be paired with release.
func (v *badgerVersions) acquire() uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	ts := v.committed
	v.readers[ts]++
	return ts
}

// release ends a read registered by acquire.
func (v *badgerVersions) release(ts uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.readers[ts] <= 1 {
		delete(v.readers, ts)
	} else {
		v.readers[ts]--
	}
}

// next returns the version the next batch is written at. Commits are
// serialised by the caller, so it is not taken by anyone else meanwhile.
func (v *badgerVersions) next() uint64 {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.committed + 1
}

// publish makes version ts, whose entries are all written, visible to reads
// that begin from now on, and returns the discard timestamp for badger: the
// oldest version a registered reader reads at, or ts if there is none. It is
// computed under the same lock as acquire, so a reader that registers after
// it reads at ts, never below the returned timestamp.
func (v *badgerVersions) publish(ts uint64) (discard uint64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.committed = ts
	discard = ts
	for r := range v.readers { // a handful of entries; the minimum does not depend on order
		discard = min(discard, r)
	}
	return discard
}

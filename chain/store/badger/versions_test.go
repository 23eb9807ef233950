package badger

import "testing"

// TestBadgerVersionsDiscard checks that badger may never discard below the
// version an active reader reads at, and reaches the newest version once no
// reader holds an older one.
func TestBadgerVersionsDiscard(t *testing.T) {
	v := newBadgerVersions(7)
	if got := v.next(); got != 8 {
		t.Fatalf("next = %d, want 8", got)
	}
	r1 := v.acquire() // reads at 7
	if d := v.publish(8); d != 7 {
		t.Fatalf("discard with a reader at 7 = %d, want 7", d)
	}
	r2 := v.acquire() // reads at 8
	r3 := v.acquire() // reads at 8
	if r1 != 7 || r2 != 8 || r3 != 8 {
		t.Fatalf("read timestamps %d %d %d, want 7 8 8", r1, r2, r3)
	}
	v.release(r1)
	if d := v.publish(9); d != 8 {
		t.Fatalf("discard with readers at 8 = %d, want 8", d)
	}
	v.release(r2)
	if d := v.publish(10); d != 8 {
		t.Fatalf("discard with one reader left at 8 = %d, want 8", d)
	}
	v.release(r3)
	if d := v.publish(11); d != 11 {
		t.Fatalf("discard with no reader = %d, want 11", d)
	}
	if got := v.acquire(); got != 11 {
		t.Fatalf("a reader after publish(11) reads at %d", got)
	}
}

package smt

import "testing"

// Set and Delete report what they replaced, and restoring those values restores the root.
func TestSetDeleteReturnOldValues(t *testing.T) {
	tr := New()
	for i := range 50 {
		tr.Set(key(i), val(i))
	}
	before := tr.Root()
	old, ok := tr.Set(key(7), val(1000))
	if !ok || old != val(7) {
		t.Fatalf("Set returned %x, %v; want the old value", old, ok)
	}
	if _, ok := tr.Set(key(999), val(999)); ok {
		t.Fatal("Set of a new key reported an old value")
	}
	old3, ok3 := tr.Delete(key(3))
	if !ok3 || old3 != val(3) {
		t.Fatalf("Delete returned %x, %v", old3, ok3)
	}
	if _, ok := tr.Delete(key(5000)); ok {
		t.Fatal("Delete of an absent key reported a value")
	}
	tr.Set(key(3), old3)
	tr.Delete(key(999))
	tr.Set(key(7), old)
	if tr.Root() != before {
		t.Fatal("undoing with the returned values did not restore the root")
	}
}

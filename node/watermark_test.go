package node

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func mustLoadWatermark(t *testing.T, path string) *watermark {
	t.Helper()
	w, found, err := loadWatermark(path)
	if err != nil || !found {
		t.Fatalf("load: found %v, err %v", found, err)
	}
	return w
}

// The watermark survives a reload, and a write torn in either slot loses at most the height
// being written: the other slot still holds the one before it.
func TestWatermarkSurvivesATornWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), WatermarkFile)
	w, found, err := loadWatermark(path)
	if err != nil || found {
		t.Fatalf("absent file: found %v, err %v", found, err)
	}
	if err := w.reset(5); err != nil {
		t.Fatal(err)
	}
	for h := uint64(6); h <= 9; h++ {
		if err := w.Advance(h); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Advance(7); err != nil || w.Height() != 9 {
		t.Fatalf("Advance(7) after 9: height %d, err %v", w.Height(), err)
	}
	if got := mustLoadWatermark(t, path).Height(); got != 9 {
		t.Fatalf("reloaded height %d, want 9", got)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	slotOf := map[uint64]int{}
	for s := range 2 {
		h, ok := decodeWatermarkSlot(raw[s*watermarkSlot : (s+1)*watermarkSlot])
		if !ok {
			t.Fatalf("slot %d invalid", s)
		}
		slotOf[h] = s
	}
	if len(slotOf) != 2 || slotOf[9] == slotOf[8] {
		t.Fatalf("slots hold %v, want 8 and 9", slotOf)
	}
	for _, tc := range []struct{ tear, want uint64 }{{9, 8}, {8, 9}} {
		torn := append([]byte(nil), raw...)
		torn[slotOf[tc.tear]*watermarkSlot+10] ^= 0xff // a byte of the height
		if err := os.WriteFile(path, torn, 0o600); err != nil {
			t.Fatal(err)
		}
		if got := mustLoadWatermark(t, path).Height(); got != tc.want {
			t.Fatalf("slot of %d torn: height %d, want %d", tc.tear, got, tc.want)
		}
	}
	if err := os.WriteFile(path, make([]byte, 2*watermarkSlot), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := loadWatermark(path); !errors.Is(err, ErrBadWatermark) {
		t.Fatalf("both slots torn: %v, want ErrBadWatermark", err)
	}
}

// BenchmarkWatermarkAdvance is the cost the watermark adds to every block: one 32-byte write
// in place and an fsync.
func BenchmarkWatermarkAdvance(b *testing.B) {
	w, _, err := loadWatermark(filepath.Join(b.TempDir(), WatermarkFile))
	if err != nil {
		b.Fatal(err)
	}
	if err := w.reset(0); err != nil {
		b.Fatal(err)
	}
	h := uint64(0)
	for b.Loop() {
		h++
		if err := w.Advance(h); err != nil {
			b.Fatal(err)
		}
	}
}

package node

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/loyal-ledger/loyal/node/consensus"
)

// The signed state moves from the data directory to the home, and a validator is never
// without one: the old file is removed only once the new one is written; if both exist (a
// crash between the two steps, or a downgrade that wrote the old place again), the later of
// the two is kept.
func TestSignedStateMigrates(t *testing.T) {
	state := func(h uint64, r uint32) string {
		none := consensus.BlockRef{Round: -1}
		return string((&consensus.SignedState{Height: h, Round: r, Locked: none, Valid: none}).Encode())
	}
	for _, tc := range []struct {
		name         string
		oldState     string // "" = no file
		newState     string
		wantNewState string
	}{
		{"old only", "old", "", "old"},
		{"both", "old", "new", "new"},
		{"both, the home's later", state(5, 0), state(6, 0), state(6, 0)},
		{"both, the old one later", state(7, 1), state(7, 0), state(7, 1)},
		{"both, the home's garbled", state(7, 1), "garbled", state(7, 1)},
		{"new only", "", "new", "new"},
		{"neither", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			dataDir := filepath.Join(home, "data")
			if err := os.Mkdir(dataDir, 0o700); err != nil {
				t.Fatal(err)
			}
			oldPath, newPath := filepath.Join(dataDir, signedStateName), filepath.Join(home, signedStateName)
			for path, content := range map[string]string{oldPath: tc.oldState, newPath: tc.newState} {
				if content != "" {
					if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
						t.Fatal(err)
					}
				}
			}
			if err := migrateSignedState(home, dataDir); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(oldPath); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("old file: %v, want it gone", err)
			}
			got, err := os.ReadFile(newPath)
			if tc.wantNewState == "" {
				if !errors.Is(err, fs.ErrNotExist) {
					t.Fatalf("new file: %q, %v; want none", got, err)
				}
				return
			}
			if err != nil || string(got) != tc.wantNewState {
				t.Fatalf("new file %q, %v; want %q", got, err, tc.wantNewState)
			}
			if fi, _ := os.Stat(newPath); fi.Mode().Perm() != 0o600 {
				t.Fatalf("new file mode %04o, want 0600", fi.Mode().Perm())
			}
		})
	}
}

// A data directory that is the home itself needs no move, and the file stays.
func TestSignedStateInHomeDataDirStays(t *testing.T) {
	home := t.TempDir()
	path := filepath.Join(home, signedStateName)
	if err := os.WriteFile(path, []byte("state"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := migrateSignedState(home, home+"/."); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != "state" {
		t.Fatalf("%q, %v", got, err)
	}
}

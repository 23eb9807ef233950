package node_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/loyal-ledger/loyal/chain/ledger"
	"github.com/loyal-ledger/loyal/chain/store"
	"github.com/loyal-ledger/loyal/chain/store/backends"
	"github.com/loyal-ledger/loyal/node"
)

// The store guard's tests damage a node's store the ways the issue found it could be
// damaged, and check that the node refuses to start, says why and what to do, and changes
// nothing on disk.

var quiet = node.NewLogger(node.LogConfig{Level: "error", Format: "text"}, io.Discard)

// guardChildEnv names the home a helper process runs a node in until it is killed.
const guardChildEnv = "LOYAL_NODE_GUARD_CHILD"

// TestGuardChild is the helper process of crashedHome: it runs the node of a home, printing
// each new height once committed, until killed.
func TestGuardChild(t *testing.T) {
	home := os.Getenv(guardChildEnv)
	if home == "" {
		t.Skip("helper process for the store guard's tests")
	}
	n, err := node.Open(home, quiet)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // never outlive the parent for long
	defer cancel()
	go n.Run(ctx)
	var last uint64
	for ctx.Err() == nil {
		// The height the node reports (its metric), set once a block's commit is recorded in
		// the watermark too; the ledger's head moves a moment before.
		if h := uint64(testutil.ToFloat64(n.Metrics().Height)); h != last {
			last = h
			fmt.Printf("height %d\n", h)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fastHome is a home whose node makes an empty block every 10ms (block times still advance a
// second a block, so after the first few it makes one a second).
func fastHome(t *testing.T, backend string) string {
	home := initHome(t, testKey(t, "owner"), backend)
	replaceIn(t, home, node.ConfigFile, `heartbeat = "1m0s"`, `heartbeat = "10ms"`)
	return home
}

// crashedHome runs a node in a child process until it has committed height at least, then
// kills it with SIGKILL: its store keeps its latest blocks only in its write-ahead log. It
// returns the home and the last height the child reported.
func crashedHome(t *testing.T, backend string, height uint64) (string, uint64) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs a node in a child process")
	}
	home := fastHome(t, backend)
	cmd := exec.Command(os.Args[0], "-test.run=^TestGuardChild$")
	cmd.Env = append(os.Environ(), guardChildEnv+"="+home)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var reached uint64
	for reached < height && sc.Scan() {
		if h, ok := strings.CutPrefix(sc.Text(), "height "); ok {
			reached, _ = strconv.ParseUint(h, 10, 64)
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if reached < height {
		t.Fatalf("child reached height %d, want %d: %s", reached, height, stderr.String())
	}
	return home, reached
}

// digest is the content hash of every file under dir but the stores' LOCK files and what
// is under skip, if not "".
func digest(t *testing.T, dir, skip string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && path == skip {
			return filepath.SkipDir
		}
		if err != nil || d.IsDir() || d.Name() == "LOCK" {
			return err
		}
		data, err := os.ReadFile(path)
		out[path] = sha256.Sum256(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameDigest(t *testing.T, before, after map[string][32]byte) {
	t.Helper()
	if len(before) != len(after) {
		t.Fatalf("%d files before, %d after", len(before), len(after))
	}
	for path, h := range before {
		if after[path] != h {
			t.Fatalf("%s changed", path)
		}
	}
}

// storeHead reads the head height of the store in dir, read-only (pebble) or, on a copy,
// read-write (badger cannot open a crashed store read-only).
func storeHead(t *testing.T, backend, dir string) uint64 {
	t.Helper()
	opts := &store.Options{ReadOnly: true, MaxBatchBytes: 1 << 20}
	if backend == "badger" {
		cp := filepath.Join(t.TempDir(), "copy")
		if out, err := exec.Command("cp", "-a", "--sparse=always", dir, cp).CombinedOutput(); err != nil {
			t.Fatalf("cp: %v: %s", err, out)
		}
		dir, opts.ReadOnly = cp, false
	}
	db, err := backends.Open(backend, dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	head, _, err := ledger.ReadHead(db)
	if err != nil {
		t.Fatal(err)
	}
	return head.Height
}

// walGlob is where each backend keeps its write-ahead log.
var walGlob = map[string]string{"pebble": "*.log", "badger": "*.mem"}

// activeLog is the newest write-ahead log of the store in dir, and the length of its data:
// badger's is a large sparse file, written from its start.
func activeLog(t *testing.T, backend, dir string) (string, int) {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join(dir, walGlob[backend]))
	if err != nil || len(logs) == 0 {
		t.Fatalf("no write-ahead log in %s (%v)", dir, err)
	}
	path := logs[len(logs)-1] // names are zero-padded numbers
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	head := make([]byte, 16<<20)
	n, _ := io.ReadFull(f, head)
	for n > 0 && head[n-1] == 0 {
		n--
	}
	if n == 0 {
		t.Fatalf("%s holds no data in its first %d bytes", path, len(head))
	}
	return path, n
}

var behindMsg = regexp.MustCompile(`^node: the store is behind the blocks this node committed: the store in (\S+) is at height (\d+), but this node committed blocks up to height (\d+) \((\S+)\)\. .*Restore the data directory from a backup at height (\d+) or later; .*start once with --allow-rollback$`)

// A node killed while its latest blocks were only in its store's write-ahead log, whose log
// is then damaged (one byte flipped in the middle) or cut (to half its data): the store comes
// back blocks behind (pebble replays the log up to the damage; so does badger, once opened
// read-write). The node used to start there with an INFO line; now Open refuses, naming both
// heights and what to do. Nothing is written: on pebble, no file of the home changes; badger
// cuts its own log back when opened read-write (it cannot open it read-only), and the rest of
// the home is unchanged. With AllowRollback the node starts from the store's height and
// lowers the watermark.
func TestStartRefusesAStoreThatLostBlocks(t *testing.T) {
	for _, backend := range backends.Names {
		for _, tc := range []struct {
			name   string
			damage func(t *testing.T, path string, size int)
		}{
			{"wal byte flipped", func(t *testing.T, path string, size int) {
				f, err := os.OpenFile(path, os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				b := make([]byte, 1)
				if _, err := f.ReadAt(b, int64(size/2)); err != nil {
					t.Fatal(err)
				}
				b[0] ^= 0x5a
				if _, err := f.WriteAt(b, int64(size/2)); err != nil {
					t.Fatal(err)
				}
			}},
			{"wal truncated", func(t *testing.T, path string, size int) {
				if err := os.Truncate(path, int64(size/2)); err != nil {
					t.Fatal(err)
				}
			}},
		} {
			t.Run(backend+"/"+tc.name, func(t *testing.T) {
				home, _ := crashedHome(t, backend, 8)
				dataDir := filepath.Join(home, "data")
				wal, size := activeLog(t, backend, dataDir)
				tc.damage(t, wal, size)
				behind := storeHead(t, backend, dataDir)
				skip := ""
				if backend == "badger" {
					skip = dataDir
				}
				before := digest(t, home, skip)

				_, err := node.OpenWith(home, node.Options{Log: quiet})
				if !errors.Is(err, node.ErrStoreBehind) {
					t.Fatalf("Open = %v, want ErrStoreBehind", err)
				}
				m := behindMsg.FindStringSubmatch(err.Error())
				if m == nil {
					t.Fatalf("error %q does not say what the guard says", err)
				}
				if m[1] != dataDir || m[2] != strconv.FormatUint(behind, 10) || m[4] != filepath.Join(home, node.WatermarkFile) || m[5] != m[3] {
					t.Fatalf("error %q: want the store %s at height %d and the watermark file", err, dataDir, behind)
				}
				if committed, _ := strconv.ParseUint(m[3], 10, 64); committed < 8 || committed <= behind {
					t.Fatalf("watermark %d, want at least 8 and above the store's %d", committed, behind)
				}
				sameDigest(t, before, digest(t, home, skip))

				// The operator accepts the loss: the node starts at the store's height, and from
				// then on without the flag.
				n, err := node.OpenWith(home, node.Options{Log: quiet, AllowRollback: true})
				if err != nil {
					t.Fatal(err)
				}
				if h := n.Ledger().Head().Height; h != behind {
					t.Fatalf("started at %d, want the store's %d", h, behind)
				}
				if err := n.Close(); err != nil {
					t.Fatal(err)
				}
				n, err = node.OpenWith(home, node.Options{Log: quiet})
				if err != nil {
					t.Fatalf("reopen after the accepted rollback: %v", err)
				}
				if err := n.Close(); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// The guard refuses no healthy store: a node killed with SIGKILL mid-run restarts, on either
// backend, at the height it reported or later. (Badger cannot open a crashed store read-only;
// the guard then checks it once open read-write.)
func TestKilledNodeRestarts(t *testing.T) {
	for _, backend := range backends.Names {
		t.Run(backend, func(t *testing.T) {
			home, reported := crashedHome(t, backend, 4)
			n, err := node.OpenWith(home, node.Options{Log: quiet})
			if err != nil {
				t.Fatalf("reopen after SIGKILL: %v", err)
			}
			defer n.Close()
			if h := n.Ledger().Head().Height; h < reported {
				t.Fatalf("restarted at %d, the child reported %d committed", h, reported)
			}
		})
	}
}

// runTo starts the node of home, waits for height h and stops it cleanly.
func runTo(t *testing.T, home string, h uint64) {
	t.Helper()
	r := start(t, home)
	deadline := time.Now().Add(30 * time.Second)
	for r.n.Ledger().Head().Height < h {
		if time.Now().After(deadline) {
			t.Fatalf("height %d after 30s, want %d", r.n.Ledger().Head().Height, h)
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.stop(t)
}

// A home whose data directory was emptied used to start a new chain from genesis without a
// word. Now Open refuses and creates nothing; AllowRollback starts over at height 0.
func TestStartRefusesAnEmptiedDataDir(t *testing.T) {
	home := fastHome(t, "pebble")
	runTo(t, home, 3)
	dataDir := filepath.Join(home, "data")
	entries, err := os.ReadDir(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(dataDir, e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	// What an emptied data directory on a file system of its own still holds.
	if err := os.Mkdir(filepath.Join(dataDir, "lost+found"), 0o700); err != nil {
		t.Fatal(err)
	}
	before := digest(t, home, "")

	_, err = node.OpenWith(home, node.Options{Log: quiet})
	if !errors.Is(err, node.ErrStoreBehind) {
		t.Fatalf("Open = %v, want ErrStoreBehind", err)
	}
	want := regexp.MustCompile(`^node: the store is behind the blocks this node committed: ` + regexp.QuoteMeta(dataDir) +
		` holds no store, but this node committed blocks up to height ([3-9]|\d\d+) \(` + regexp.QuoteMeta(filepath.Join(home, node.WatermarkFile)) +
		`\)\. Starting would begin the chain again from genesis\. Restore the data directory from a backup; or, to start over and lose those blocks on this node, start once with --allow-rollback$`)
	if !want.MatchString(err.Error()) {
		t.Fatalf("error %q\ndoes not match %s", err, want)
	}
	sameDigest(t, before, digest(t, home, ""))

	n, err := node.OpenWith(home, node.Options{Log: quiet, AllowRollback: true})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if h := n.Ledger().Head().Height; h != 0 {
		t.Fatalf("started at %d, want 0", h)
	}
}

// A pebble store whose CURRENT file was deleted made pebble.Open panic inside the node. Now
// Open returns one error (store.ErrCorrupt, naming the store) and changes no file.
func TestStartRefusesAStoreWithoutCurrent(t *testing.T) {
	home := fastHome(t, "pebble")
	runTo(t, home, 2)
	dataDir := filepath.Join(home, "data")
	if err := os.Remove(filepath.Join(dataDir, "CURRENT")); err != nil {
		t.Fatal(err)
	}
	before := digest(t, home, "")
	_, err := node.OpenWith(home, node.Options{Log: quiet})
	if !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("Open = %v, want store.ErrCorrupt", err)
	}
	if prefix := "node: open pebble store in " + dataDir + ": store: open pebble " + dataDir + ": store: corrupt: CURRENT is missing"; !strings.HasPrefix(err.Error(), prefix) {
		t.Fatalf("error %q\nwant prefix %q", err, prefix)
	}
	sameDigest(t, before, digest(t, home, ""))
}

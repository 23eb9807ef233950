package backends_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loyal-ledger/loyal/chain/store"
	"github.com/loyal-ledger/loyal/chain/store/backends"
	"github.com/loyal-ledger/loyal/chain/store/badger"
	"github.com/loyal-ledger/loyal/chain/store/storetest"
)

// opener returns a storetest.OpenFunc for backend with opts.
func opener(backend string, opts *store.Options) storetest.OpenFunc {
	return func(t *testing.T, dir string) store.DB {
		t.Helper()
		db, err := backends.Open(backend, dir, opts)
		if err != nil {
			t.Fatalf("open %s: %v", backend, err)
		}
		if got := db.Backend(); got != backend {
			t.Fatalf("Backend() = %q, want %q", got, backend)
		}
		return db
	}
}

// TestDefaultOptionsLargeBatch commits an 8 MiB batch with default options.
// It comes first so that badger's default ~700 MiB arena is more likely to
// come fresh from the OS than from freed heap that must be zeroed.
func TestDefaultOptionsLargeBatch(t *testing.T) {
	const n = 8 << 10
	for _, backend := range backends.Names {
		t.Run(backend, func(t *testing.T) {
			db, err := backends.Open(backend, t.TempDir(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			b := db.NewBatch()
			defer b.Close()
			fill(b, "large/", n, 16, 1024)
			if b.Size() < 8<<20 {
				t.Fatalf("Size = %d, want at least 8 MiB", b.Size())
			}
			if err := b.Commit(true); err != nil {
				t.Fatalf("Commit of %d bytes: %v", b.Size(), err)
			}
			count := 0
			if err := db.Iterate(nil, nil, func(k, v []byte) error {
				if len(v) != 1024 {
					return fmt.Errorf("value of %q has %d bytes", k, len(v))
				}
				count++
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if count != n {
				t.Fatalf("%d of %d keys visible", count, n)
			}
		})
	}
}

func TestPebble(t *testing.T) { storetest.Run(t, opener("pebble", nil)) }

// TestBadger runs the suite with MaxBatchBytes 12 MiB rather than the default
// 64 MiB: badger allocates its memtable arena (about 10.8 × MaxBatchBytes) on
// every open, and zeroing ~700 MiB on each of the suite's many opens is slow
// where page faults are (seconds on some VMs). 12 MiB still holds the suite's
// 8 MiB batch; TestDefaultOptionsLargeBatch covers the defaults.
func TestBadger(t *testing.T) {
	storetest.Run(t, opener("badger", &store.Options{MaxBatchBytes: 12 << 20}))
}

func TestOpenBackends(t *testing.T) {
	if len(backends.Names) != 2 || backends.Names[0] != "pebble" || backends.Names[1] != "badger" {
		t.Fatalf("Backends = %q", backends.Names)
	}
	db, err := backends.Open("", t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Backend() != "pebble" {
		t.Fatalf(`Open("") opened %q, want pebble`, db.Backend())
	}
}

func TestOpenUnknownBackend(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	db, err := backends.Open("nope", dir, nil)
	if err == nil {
		db.Close()
		t.Fatal(`Open("nope") succeeded`)
	}
	for _, want := range []string{"store: ", `"nope"`, "pebble", "badger"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
	if _, serr := os.Stat(dir); !errors.Is(serr, os.ErrNotExist) {
		t.Errorf("Open of an unknown backend touched the directory: %v", serr)
	}
}

func TestOpenBadOptions(t *testing.T) {
	for _, backend := range backends.Names {
		if _, err := backends.Open(backend, t.TempDir(), &store.Options{MaxBatchBytes: -1}); err == nil {
			t.Errorf("%s: negative MaxBatchBytes accepted", backend)
		}
	}
	_, err := badger.Open(t.TempDir(), &store.Options{MaxBatchBytes: store.MaxBatchBytesLimit + 1})
	if err == nil || !strings.Contains(err.Error(), "MaxBatchBytes") {
		t.Errorf("badger: MaxBatchBytes above the limit: err = %v", err)
	}
}

// fill adds n pairs of a klen-byte key and a vlen-byte value to b, keys
// starting with prefix.
func fill(b store.Batch, prefix string, n, klen, vlen int) {
	v := bytes.Repeat([]byte{0xab}, vlen)
	for i := range n {
		k := fmt.Appendf(nil, "%s%0*d", prefix, klen-len(prefix), i)
		b.Set(k, v)
	}
}

func TestBadgerBatchTooLarge(t *testing.T) {
	const maxBatch = 1 << 20
	db, err := badger.Open(t.TempDir(), &store.Options{MaxBatchBytes: maxBatch})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	tooLarge := []struct {
		name string
		fill func(store.Batch)
	}{
		// 2 MiB of keys and values: over badger's transaction size limit.
		{"bytes", func(b store.Batch) { fill(b, "big/", 2048, 16, 1008) }},
		// 20,000 empty values, 320 KB: over badger's transaction entry limit.
		{"count", func(b store.Batch) { fill(b, "tiny/", 20_000, 16, 0) }},
	}
	for _, tc := range tooLarge {
		t.Run(tc.name, func(t *testing.T) {
			b := db.NewBatch()
			defer b.Close()
			tc.fill(b)
			err := b.Commit(true)
			if !errors.Is(err, store.ErrBatchTooLarge) {
				t.Fatalf("Commit of %d ops, %d bytes with MaxBatchBytes %d = %v, want ErrBatchTooLarge",
					b.Len(), b.Size(), maxBatch, err)
			}
			if !strings.HasPrefix(err.Error(), "store: ") || !strings.Contains(err.Error(), strconv.Itoa(b.Size())) {
				t.Errorf("error %q lacks the prefix or the batch size", err)
			}
			if err := b.Commit(true); !errors.Is(err, store.ErrBatchTooLarge) {
				t.Errorf("second Commit = %v, want ErrBatchTooLarge", err)
			}
			n := 0
			if err := db.Iterate(nil, nil, func(k, v []byte) error { n++; return nil }); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("the refused batch wrote %d keys", n)
			}
		})
	}

	// The documented guarantee: Size() <= MaxBatchBytes and
	// Len() <= MaxBatchBytes/80 commits.
	fits := []struct {
		name       string
		n, kl, vl  int
		wantMaxLen bool
	}{
		{"max-bytes", 1024, 16, 1008, false},         // exactly 1 MiB
		{"max-len", maxBatch / 80, 16, 64, true},     // 13,107 ops of 80 bytes
		{"one-value", 1, 16, maxBatch - 16, false},   // one value of ~1 MiB
		{"small-values", maxBatch / 80, 40, 0, true}, // keys only
	}
	for _, tc := range fits {
		t.Run("fits-"+tc.name, func(t *testing.T) {
			b := db.NewBatch()
			defer b.Close()
			fill(b, tc.name+"/", tc.n, tc.kl, tc.vl)
			if b.Size() > maxBatch || b.Len() > maxBatch/80 {
				t.Fatalf("test batch outside the guarantee: Len %d Size %d", b.Len(), b.Size())
			}
			if err := b.Commit(true); err != nil {
				t.Fatalf("Commit of %d ops, %d bytes: %v", b.Len(), b.Size(), err)
			}
		})
	}
}

func TestReadOnly(t *testing.T) {
	for _, backend := range backends.Names {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			opts := &store.Options{MaxBatchBytes: 1 << 20}
			db, err := backends.Open(backend, dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			b := db.NewBatch()
			b.Set([]byte("k"), []byte("v"))
			if err := b.Commit(true); err != nil {
				t.Fatal(err)
			}
			b.Close()
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}

			ro, err := backends.Open(backend, dir, &store.Options{MaxBatchBytes: 1 << 20, ReadOnly: true})
			if err != nil {
				t.Fatalf("open read-only: %v", err)
			}
			defer ro.Close()
			if v, err := ro.Get([]byte("k")); err != nil || string(v) != "v" {
				t.Fatalf("Get = %q, %v", v, err)
			}
			b = ro.NewBatch()
			defer b.Close()
			b.Set([]byte("k2"), []byte("v"))
			if err := b.Commit(true); !errors.Is(err, store.ErrReadOnly) {
				t.Fatalf("Commit on a read-only store = %v, want ErrReadOnly", err)
			}
			if _, err := ro.Get([]byte("k2")); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("Get(k2) = %v, want ErrNotFound", err)
			}

			missing := filepath.Join(t.TempDir(), "missing")
			if db, err := backends.Open(backend, missing, &store.Options{ReadOnly: true}); err == nil {
				db.Close()
				t.Fatal("read-only open of a missing directory succeeded")
			}
		})
	}
}

// TestCorruptionDetected flips bytes in the middle of every table file and
// checks that opening or reading reports ErrCorrupt rather than wrong data.
func TestCorruptionDetected(t *testing.T) {
	opts := &store.Options{MaxBatchBytes: 1 << 20}
	for _, backend := range backends.Names {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			db, err := backends.Open(backend, dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			b := db.NewBatch()
			fill(b, "c/", 1000, 8, 100)
			if err := b.Commit(true); err != nil {
				t.Fatal(err)
			}
			b.Close()
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			// Pebble writes a table when it replays its log on open.
			if db, err = backends.Open(backend, dir, opts); err != nil {
				t.Fatal(err)
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			tables, err := filepath.Glob(filepath.Join(dir, "*.sst"))
			if err != nil || len(tables) == 0 {
				t.Fatalf("no table files in %s (%v)", dir, err)
			}
			for _, name := range tables {
				data, err := os.ReadFile(name)
				if err != nil {
					t.Fatal(err)
				}
				for i := len(data) / 2; i < len(data)/2+64 && i < len(data); i++ {
					data[i] ^= 0xff
				}
				if err := os.WriteFile(name, data, 0o644); err != nil {
					t.Fatal(err)
				}
			}

			db, err = backends.Open(backend, dir, opts)
			if err != nil {
				if !errors.Is(err, store.ErrCorrupt) || !strings.HasPrefix(err.Error(), "store: ") {
					t.Fatalf("open of a corrupt store: %v, want an error wrapping ErrCorrupt", err)
				}
				return
			}
			defer db.Close()
			err = db.Iterate(nil, nil, func(k, v []byte) error { return nil })
			for i := 0; err == nil && i < 1000; i++ {
				_, err = db.Get(fmt.Appendf(nil, "c/%06d", i))
			}
			if !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("reading a corrupt store: %v, want an error wrapping ErrCorrupt", err)
			}
		})
	}
}

// TestQuietByDefault checks that neither backend writes to stderr (or the
// standard logger) without a Logger, and that a Logger receives messages.
func TestQuietByDefault(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stderr, logOut := os.Stderr, log.Writer()
	os.Stderr = f
	log.SetOutput(f)
	func() {
		defer func() { os.Stderr = stderr; log.SetOutput(logOut) }()
		for _, backend := range backends.Names {
			dir := t.TempDir()
			for range 2 { // create, then reopen an existing store
				db, err := backends.Open(backend, dir, &store.Options{MaxBatchBytes: 1 << 20})
				if err != nil {
					t.Fatal(err)
				}
				b := db.NewBatch()
				fill(b, "q/", 100, 8, 8)
				if err := b.Commit(true); err != nil {
					t.Fatal(err)
				}
				b.Close()
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}()
	out, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 0 {
		t.Errorf("backends wrote to stderr:\n%s", out)
	}

	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	db, err := badger.Open(t.TempDir(), &store.Options{MaxBatchBytes: 1 << 20, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "backend=badger") {
		t.Errorf("badger logged nothing to the Logger: %q", buf.String())
	}
}

// Crash atomicity: a child process (this test binary, re-executed) commits
// batches in a loop and is killed with SIGKILL; the parent reopens the store
// and checks that every batch is whole.

const (
	envCrashBackend = "STORE_TEST_CRASH_BACKEND"
	envCrashDir     = "STORE_TEST_CRASH_DIR"
	crashKeys       = 100
)

var crashOpts = &store.Options{MaxBatchBytes: 4 << 20}

func TestMain(m *testing.M) {
	if backend := os.Getenv(envCrashBackend); backend != "" {
		if err := crashChild(backend, os.Getenv(envCrashDir)); err != nil {
			fmt.Fprintln(os.Stderr, "crash child:", err)
			os.Exit(2)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func crashKey(i int) []byte { return fmt.Appendf(nil, "crash/%03d", i) }

// crashValue is a 1 KiB value holding counter c.
func crashValue(c uint64, i int) []byte {
	v := bytes.Repeat([]byte{byte(i)}, 1024)
	binary.BigEndian.PutUint64(v, c)
	return v
}

// crashChild commits batches until killed: batch c sets every crash key to
// counter c, deletes "crash/tmp/c-1" and sets "crash/tmp/c". It prints each
// counter once committed.
func crashChild(backend, dir string) error {
	db, err := backends.Open(backend, dir, crashOpts)
	if err != nil {
		return err
	}
	var c uint64
	if v, err := db.Get(crashKey(0)); err == nil {
		c = binary.BigEndian.Uint64(v)
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	b := db.NewBatch()
	deadline := time.Now().Add(time.Minute) // never outlive a broken parent for long
	for time.Now().Before(deadline) {
		c++
		for i := range crashKeys {
			b.Set(crashKey(i), crashValue(c, i))
		}
		b.Delete(fmt.Appendf(nil, "crash/tmp/%d", c-1))
		b.Set(fmt.Appendf(nil, "crash/tmp/%d", c), nil)
		if err := b.Commit(true); err != nil {
			return err
		}
		fmt.Printf("%d\n", c)
	}
	return db.Close()
}

// checkCrashState verifies that the store holds whole batches only and
// returns the counter it holds.
func checkCrashState(t *testing.T, db store.DB) uint64 {
	t.Helper()
	var c uint64
	n := 0
	err := db.Iterate([]byte("crash/0"), []byte("crash/:"), func(k, v []byte) error {
		got := binary.BigEndian.Uint64(v)
		if n == 0 {
			c = got
		}
		if want := crashValue(c, n); !bytes.Equal(k, crashKey(n)) || !bytes.Equal(v, want) {
			return fmt.Errorf("key %q holds counter %d, first key holds %d: partial batch", k, got, c)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != crashKeys {
		t.Fatalf("%d crash keys after the crash, want %d", n, crashKeys)
	}
	var tmp []string
	if err := db.Iterate([]byte("crash/tmp/"), []byte("crash/tmp0"), func(k, v []byte) error {
		tmp = append(tmp, string(k))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("crash/tmp/%d", c); len(tmp) != 1 || tmp[0] != want {
		t.Fatalf("tmp keys %q, want [%s]: partial batch", tmp, want)
	}
	return c
}

func TestCrashAtomicity(t *testing.T) {
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip("no executable:", err)
	}
	for _, backend := range backends.Names {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			var last uint64
			for round := range 2 {
				reported := crashRound(t, exe, backend, dir, last+20)
				db, err := backends.Open(backend, dir, crashOpts)
				if err != nil {
					t.Fatalf("round %d: reopen after SIGKILL: %v", round, err)
				}
				c := checkCrashState(t, db)
				if err := db.Close(); err != nil {
					t.Fatal(err)
				}
				// Every reported batch was committed with sync; the one in
				// flight when the child died may or may not be there.
				if c < reported || c > reported+1 {
					t.Fatalf("round %d: store holds batch %d, child reported %d committed", round, c, reported)
				}
				last = c
			}
		})
	}
}

// crashRound starts a child committing batches to dir, kills it with SIGKILL
// as soon as it reports batch target, and returns the last batch it reported.
func crashRound(t *testing.T, exe, backend, dir string, target uint64) uint64 {
	t.Helper()
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envCrashBackend+"="+backend, envCrashDir+"="+dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	reports := make(chan uint64, 64)
	go func() {
		defer close(reports)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if c, err := strconv.ParseUint(sc.Text(), 10, 64); err == nil {
				reports <- c
			}
		}
	}()
	var reported uint64
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
wait:
	for {
		select {
		case c, ok := <-reports:
			if !ok {
				_ = cmd.Wait()
				t.Fatalf("child exited before batch %d (last %d): %s", target, reported, stderr.Bytes())
			}
			reported = c
			if c >= target {
				break wait
			}
		case <-timeout.C:
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("child reached batch %d of %d in 30s: %s", reported, target, stderr.Bytes())
		}
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL, mid-commit of the next batch
		t.Fatal(err)
	}
	for c := range reports { // drain what the child printed before dying
		reported = c
	}
	_ = cmd.Wait() // "signal: killed"
	if cmd.ProcessState.Success() {
		t.Fatalf("child was not killed: %s", stderr.Bytes())
	}
	return reported
}

// BenchmarkBatchCommit commits synced batches of 20,000 keys with 100-byte
// values, with default options.
func BenchmarkBatchCommit(b *testing.B) {
	const keys, valueLen = 20_000, 100
	for _, backend := range backends.Names {
		b.Run(backend, func(b *testing.B) {
			db, err := backends.Open(backend, b.TempDir(), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			value := make([]byte, valueLen)
			for i := range value {
				value[i] = byte(i * 7)
			}
			key := make([]byte, 0, 16)
			b.SetBytes(int64(keys * (len("bench/") + 8 + valueLen)))
			b.ReportAllocs()
			next := uint64(0)
			for b.Loop() {
				batch := db.NewBatch()
				for range keys {
					key = binary.BigEndian.AppendUint64(append(key[:0], "bench/"...), next)
					binary.BigEndian.PutUint64(value, next)
					batch.Set(key, value)
					next++
				}
				if err := batch.Commit(true); err != nil {
					b.Fatal(err)
				}
				batch.Close()
			}
			b.ReportMetric(float64(next)/b.Elapsed().Seconds(), "keys/s")
		})
	}
}

// BenchmarkBlockBatch commits batches shaped like a ledger block of 10,000
// transfers: 49,000 keys in random order (hashed), 140-byte values, with the
// ledger's MaxBatchBytes, into a store already holding 300,000 keys.
func BenchmarkBlockBatch(b *testing.B) {
	const keys, valueLen, prefill = 49_000, 140, 300_000
	for _, backend := range backends.Names {
		b.Run(backend, func(b *testing.B) {
			db, err := backends.Open(backend, b.TempDir(), &store.Options{MaxBatchBytes: 65 << 20})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			value := make([]byte, valueLen)
			next := uint64(0)
			commit := func(n int) {
				batch := db.NewBatchSized(n * (valueLen + 40))
				defer batch.Close()
				for range n {
					h := sha256.Sum256(binary.BigEndian.AppendUint64(nil, next%(prefill+keys)))
					binary.BigEndian.PutUint64(value, next)
					batch.Set(h[:20], value)
					next++
				}
				if err := batch.Commit(true); err != nil {
					b.Fatal(err)
				}
			}
			for range prefill / keys {
				commit(keys)
			}
			b.ResetTimer()
			for range b.N {
				commit(keys)
			}
			b.StopTimer() // not the deferred Close: badger flushes its memtable there
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*keys), "ns/key")
		})
	}
}

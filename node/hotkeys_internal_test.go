package node

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/internal/fsutil"
)

func testHome(t *testing.T) string {
	t.Helper()
	home := filepath.Join(t.TempDir(), "node")
	if _, err := Init(home, InitOptions{Owner: chain.Address{1}, GenesisTime: 1, Listen: "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	return home
}

// logLines counts the lines of buf that contain s.
func logLines(buf *bytes.Buffer, s string) int { return strings.Count(buf.String(), s) }

// The operator keys held follow the files: the next key joins, newest first, as soon as it is
// written; a change that does not load (a key others may read, garbage) keeps the keys held
// and is logged once; the fix is picked up; a retire leaves the new key alone.
func TestOperatorKeysFollowTheFiles(t *testing.T) {
	home := testHome(t)
	var logs bytes.Buffer
	ops, _, err := openHotKeys(home, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	held := func() []chain.Address { return operatorAddrs(ops.held()) }
	start, err := ReadOperatorKeys(home)
	if err != nil {
		t.Fatal(err)
	}
	old := start.Current
	if got := held(); !slices.Equal(got, []chain.Address{old}) {
		t.Fatalf("held %v, want [%s]", got, old)
	}

	k, err := RotateOperatorKey(home)
	if err != nil {
		t.Fatal(err)
	}
	if got := held(); !slices.Equal(got, []chain.Address{k.Next, old}) {
		t.Fatalf("after rotate: held %v, want [%s %s]", got, k.Next, old)
	}
	held()
	if n := logLines(&logs, "hot keys: reloaded"); n != 1 {
		t.Fatalf("%d reloads logged, want 1 (an unchanged file is not read again):\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "operators=\"["+k.Next.Hex()+" "+old.Hex()+"]\"") {
		t.Fatalf("the reload does not name both keys:\n%s", logs.String())
	}

	next := filepath.Join(home, OperatorNextKeyFile)
	if err := os.Chmod(next, 0o644); err != nil {
		t.Fatal(err)
	}
	held()
	if got := held(); !slices.Equal(got, []chain.Address{k.Next, old}) {
		t.Fatalf("with the next key readable by others: held %v, want the keys held before", got)
	}
	if n := logLines(&logs, "do not load"); n != 1 || !strings.Contains(logs.String(), "readable by others") {
		t.Fatalf("%d load failures logged, want 1 saying why:\n%s", n, logs.String())
	}
	if err := os.Chmod(next, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := held(); !slices.Equal(got, []chain.Address{k.Next, old}) || logLines(&logs, "hot keys: reloaded") != 2 {
		t.Fatalf("after chmod 600: held %v, %d reloads logged; want both keys, 2", got, logLines(&logs, "hot keys: reloaded"))
	}
	if err := os.WriteFile(next, []byte("zz\n"), 0o600); err != nil { // an edit in place
		t.Fatal(err)
	}
	if got := held(); !slices.Equal(got, []chain.Address{k.Next, old}) || logLines(&logs, "do not load") != 2 {
		t.Fatalf("with a garbled next key: held %v, %d failures logged; want the keys held before, 2", got, logLines(&logs, "do not load"))
	}
	if err := os.Remove(next); err != nil {
		t.Fatal(err)
	}
	if got := held(); !slices.Equal(got, []chain.Address{old}) {
		t.Fatalf("with the next key removed: held %v, want [%s]", got, old)
	}

	k, err = RotateOperatorKey(home)
	if err != nil {
		t.Fatal(err)
	}
	if got := held(); !slices.Equal(got, []chain.Address{k.Next, old}) {
		t.Fatalf("after the second rotate: held %v, want [%s %s]", got, k.Next, old)
	}
	if err := RetireOperatorKey(home, k); err != nil {
		t.Fatal(err)
	}
	if got := held(); !slices.Equal(got, []chain.Address{k.Next}) {
		t.Fatalf("after retire: held %v, want [%s]", got, k.Next)
	}
}

// The tokens held follow their files the same way, each with LoadToken's checks: a next
// token shorter than 32 characters is not accepted and the tokens held stay.
func TestTokensFollowTheFiles(t *testing.T) {
	home := testHome(t)
	var logs bytes.Buffer
	_, toks, err := openHotKeys(home, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	old, err := LoadToken(filepath.Join(home, TokenFile))
	if err != nil {
		t.Fatal(err)
	}
	if got := toks.held(); !slices.Equal(got, []string{old}) {
		t.Fatalf("held %d tokens, want the one of api.token", len(got))
	}
	next := filepath.Join(home, TokenNextFile)
	if err := os.WriteFile(next, []byte("short\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := toks.held(); !slices.Equal(got, []string{old}) || !strings.Contains(logs.String(), "token shorter than 32 characters") {
		t.Fatalf("with a short next token: held %d tokens; log:\n%s", len(got), logs.String())
	}
	if err := os.Remove(next); err != nil {
		t.Fatal(err)
	}
	tok, err := RotateToken(home)
	if err != nil {
		t.Fatal(err)
	}
	if got := toks.held(); !slices.Equal(got, []string{tok, old}) {
		t.Fatal("after rotate: the held tokens are not [new, old]")
	}
	if strings.Contains(logs.String(), tok) || strings.Contains(logs.String(), old) {
		t.Fatalf("the log shows a token:\n%s", logs.String())
	}
	if err := RetireToken(home); err != nil {
		t.Fatal(err)
	}
	if got := toks.held(); !slices.Equal(got, []string{tok}) {
		t.Fatal("after retire: the held tokens are not [new]")
	}
}

// The desk signs for a program with the newest key held that the program lets earn: an
// operator or the owner.
func TestPickOperator(t *testing.T) {
	key := func(seed string) operatorKey {
		k, err := crypto.ToECDSA(crypto.Keccak256([]byte(seed)))
		if err != nil {
			t.Fatal(err)
		}
		return operatorKey{key: k, addr: crypto.PubkeyToAddress(k.PublicKey)}
	}
	newer, old := key("new"), key("old")
	other, owner := chain.Address{0xaa}, chain.Address{0xbb}
	held := []operatorKey{newer, old}
	for _, tc := range []struct {
		name      string
		owner     chain.Address
		operators []chain.Address
		held      []operatorKey
		want      chain.Address // zero: refused
	}{
		{"only the old key listed", owner, []chain.Address{old.addr}, held, old.addr},
		{"both listed, old first", owner, []chain.Address{old.addr, newer.addr}, held, newer.addr},
		{"both listed, new first", owner, []chain.Address{newer.addr, old.addr}, held, newer.addr},
		{"only the new key listed", owner, []chain.Address{other, newer.addr}, held, newer.addr},
		{"the old key owns it", old.addr, nil, held, old.addr},
		{"the old key owns it, the new one operates", old.addr, []chain.Address{newer.addr}, held, newer.addr},
		{"neither listed", owner, []chain.Address{other}, held, chain.Address{}},
		{"one key held, not listed", owner, []chain.Address{newer.addr}, []operatorKey{old}, chain.Address{}},
	} {
		p := &chain.Program{Symbol: "ACME", Owner: tc.owner, Operators: tc.operators}
		got, err := pickOperator(p, tc.held)
		if tc.want == (chain.Address{}) {
			if !errors.Is(err, chain.ErrNotOperator) || !strings.Contains(err.Error(), "is an operator of ACME") {
				t.Errorf("%s: %s, %v; want not_operator", tc.name, got.addr, err)
			}
			continue
		}
		if err != nil || got.addr != tc.want {
			t.Errorf("%s: %s, %v; want %s", tc.name, got.addr, err, tc.want)
		}
	}
}

// Requests racing rotations and retires each hold the tokens the files held at one moment
// between their start and their end: never a token retired before they began, never a mix of
// two moments. The writer publishes each token before its file exists and numbers the moments:
// at 4i the files hold token i; from 4i+1 the next file with token i+1 may exist, at 4i+2 it
// does; from 4i+3 the retire may have happened, at 4i+4 it has.
func TestTokensHeldWhileRotating(t *testing.T) {
	home := testHome(t)
	_, toks, err := openHotKeys(home, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	const readers, cycles = 4, 100
	var tokens [cycles + 1]string
	if tokens[0], err = LoadToken(filepath.Join(home, TokenFile)); err != nil {
		t.Fatal(err)
	}
	possible := func(v int64) [][]string {
		i := v / 4
		switch v % 4 {
		case 0:
			return [][]string{{tokens[i]}}
		case 1:
			return [][]string{{tokens[i]}, {tokens[i+1], tokens[i]}}
		case 2:
			return [][]string{{tokens[i+1], tokens[i]}}
		default:
			return [][]string{{tokens[i+1], tokens[i]}, {tokens[i+1]}}
		}
	}
	var (
		moment atomic.Int64
		stop   atomic.Bool
		calls  atomic.Int64
		wg     sync.WaitGroup
	)
	bad := make(chan string, readers)
	for range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				lo := moment.Load()
				held := toks.held()
				hi := moment.Load()
				calls.Add(1)
				ok := false
				for v := lo; v <= hi && !ok; v++ {
					for _, p := range possible(v) {
						ok = ok || slices.Equal(held, p)
					}
				}
				if !ok {
					bad <- fmt.Sprintf("held %d tokens, which the files never held from moment %d to %d", len(held), lo, hi)
					return
				}
			}
		}()
	}
	for i := range cycles {
		raw := make([]byte, 32)
		rand.Read(raw)
		tokens[i+1] = hex.EncodeToString(raw)
		moment.Add(1)
		if err := fsutil.WriteFileAtomicExclusive(filepath.Join(home, TokenNextFile), []byte(tokens[i+1]+"\n"), 0o600); err != nil {
			t.Error(err)
			break
		}
		moment.Add(1)
		moment.Add(1)
		if err := RetireToken(home); err != nil {
			t.Error(err)
			break
		}
		moment.Add(1)
	}
	stop.Store(true)
	wg.Wait()
	close(bad)
	for msg := range bad {
		t.Error(msg)
	}
	if n := calls.Load(); n < cycles {
		t.Fatalf("only %d calls raced %d rotations", n, cycles)
	}
}

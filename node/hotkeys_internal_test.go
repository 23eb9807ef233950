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
// written; a next key that does not load (one others may read, garbage) is not held, and that
// is logged once; the fix is picked up; a retire leaves the new key alone.
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
	if got := held(); !slices.Equal(got, []chain.Address{old}) {
		t.Fatalf("with the next key readable by others: held %v, want [%s]", got, old)
	}
	if n := logLines(&logs, "does not load"); n != 1 || !strings.Contains(logs.String(), "readable by others") {
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
	if got := held(); !slices.Equal(got, []chain.Address{old}) || logLines(&logs, "does not load") != 2 {
		t.Fatalf("with a garbled next key: held %v, %d failures logged; want [%s], 2", got, logLines(&logs, "does not load"), old)
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
// token shorter than 32 characters is not accepted, and the current one still is.
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

// replaceFile puts content at path with mode, as a new file renamed over whatever was there:
// a new inode, so the change is seen whatever the file system's timestamp granularity.
func replaceFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(tmp, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func newToken(t *testing.T) string {
	t.Helper()
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(raw)
}

// A token is held only while its file is there and loads: a deleted, exposed or garbled
// api.token is refused from the next check on, with an error in the log saying why and that
// the endpoints now refuse every request; a valid next token is still accepted alone; a file
// put right is held again.
func TestTokensFailClosed(t *testing.T) {
	home := testHome(t)
	var logs bytes.Buffer
	_, toks, err := openHotKeys(home, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	cur, next := filepath.Join(home, TokenFile), filepath.Join(home, TokenNextFile)
	old, err := LoadToken(cur)
	if err != nil {
		t.Fatal(err)
	}
	fresh, nextTok := newToken(t), newToken(t)
	const none = `level=ERROR msg="hot keys: no valid API token: the merchant endpoints answer every request 401"`
	for _, step := range []struct {
		name string
		do   func()
		want []string
		log  string // what the step's log says, beyond "level=ERROR msg=..." or the reload
	}{
		{"api.token deleted", func() { os.Remove(cur) }, []string{},
			none + ` err="node: bad key file: stat ` + cur + `: no such file or directory" api_tokens=0`},
		{"a new api.token", func() { replaceFile(t, cur, fresh+"\n", 0o600) }, []string{fresh},
			`level=INFO msg="hot keys: reloaded" api_tokens=1`},
		{"api.token readable by others", func() { os.Chmod(cur, 0o644) }, []string{},
			none + ` err="node: bad key file: ` + cur + ` is readable by others (mode 0644); run chmod 600 ` + cur + `" api_tokens=0`},
		{"api.token garbled", func() { replaceFile(t, cur, "short\n", 0o600) }, []string{},
			none + ` err="node: bad key file: ` + cur + `: token shorter than 32 characters" api_tokens=0`},
		{"a valid next token beside it", func() { replaceFile(t, next, nextTok+"\n", 0o600) }, []string{nextTok},
			`level=ERROR msg="hot keys: a file does not load: its secret is not held" err="node: bad key file: ` + cur + `: token shorter than 32 characters" api_tokens=1`},
		{"api.token put right", func() { replaceFile(t, cur, old+"\n", 0o600) }, []string{nextTok, old},
			`level=INFO msg="hot keys: reloaded" api_tokens=2`},
		{"the next token garbled", func() { replaceFile(t, next, "garbage\n", 0o600) }, []string{old},
			`level=ERROR msg="hot keys: a file does not load: its secret is not held" err="node: bad key file: ` + next + `: token shorter than 32 characters" api_tokens=1`},
		{"both deleted", func() { os.Remove(cur); os.Remove(next) }, []string{},
			none + ` err="node: bad key file: stat ` + cur + `: no such file or directory" api_tokens=0`},
	} {
		logs.Reset()
		step.do()
		got := toks.held()
		if !slices.Equal(got, step.want) {
			t.Fatalf("%s: held %d tokens, want %d", step.name, len(got), len(step.want))
		}
		toks.held() // unchanged files: nothing more to log
		if line := strings.TrimSuffix(logs.String(), "\n"); !strings.HasSuffix(line, step.log) || strings.Count(line, "\n") != 0 {
			t.Fatalf("%s: logged\n%s\nwant one line ending\n%s", step.name, line, step.log)
		}
	}
}

// An operator key is held only while its file is there and loads: with operator.key deleted
// or exposed the desk holds only a valid next key, and with neither none at all, which the
// log says means every merchant request is refused; a file put right is held again.
func TestOperatorKeysFailClosed(t *testing.T) {
	home := testHome(t)
	var logs bytes.Buffer
	ops, _, err := openHotKeys(home, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	cur, next := filepath.Join(home, OperatorKeyFile), filepath.Join(home, OperatorNextKeyFile)
	oldKey, err := os.ReadFile(cur)
	if err != nil {
		t.Fatal(err)
	}
	k, err := RotateOperatorKey(home)
	if err != nil {
		t.Fatal(err)
	}
	nextKey, err := os.ReadFile(next)
	if err != nil {
		t.Fatal(err)
	}
	addrs := func(as ...chain.Address) string { // as slog's text handler writes them
		if len(as) == 1 {
			return "operators=[" + as[0].Hex() + "]"
		}
		return fmt.Sprintf("operators=%q", fmt.Sprint(as))
	}
	const none = `level=ERROR msg="hot keys: no valid operator key: the merchant desk refuses every request (503 no_operator_key)"`
	for _, step := range []struct {
		name string
		do   func()
		want []chain.Address
		log  string
	}{
		{"rotated", func() {}, []chain.Address{k.Next, k.Current},
			`level=INFO msg="hot keys: reloaded" ` + addrs(k.Next, k.Current)},
		{"operator.key deleted", func() { os.Remove(cur) }, []chain.Address{k.Next},
			`level=ERROR msg="hot keys: a file does not load: its secret is not held" err="node: bad key file: stat ` + cur + `: no such file or directory" ` + addrs(k.Next)},
		{"the next key readable by others", func() { os.Chmod(next, 0o640) }, []chain.Address{},
			none + ` err="node: bad key file: ` + next + ` is readable by others (mode 0640); run chmod 600 ` + next + `; node: bad key file: stat ` + cur + `: no such file or directory" operators=[]`},
		{"the next key put right", func() { os.Chmod(next, 0o600) }, []chain.Address{k.Next},
			`level=ERROR msg="hot keys: a file does not load: its secret is not held" err="node: bad key file: stat ` + cur + `: no such file or directory" ` + addrs(k.Next)},
		{"operator.key back, garbled", func() { replaceFile(t, cur, "zz\n", 0o600) }, []chain.Address{k.Next},
			`level=ERROR msg="hot keys: a file does not load: its secret is not held" err="node: bad key file: ` + cur + `: not a hex secp256k1 private key: invalid hex character 'z' in private key" ` + addrs(k.Next)},
		{"operator.key put right", func() { replaceFile(t, cur, string(oldKey), 0o600) }, []chain.Address{k.Next, k.Current},
			`level=INFO msg="hot keys: reloaded" ` + addrs(k.Next, k.Current)},
		{"the next key deleted, operator.key exposed", func() { os.Remove(next); os.Chmod(cur, 0o604) }, []chain.Address{},
			none + ` err="node: bad key file: ` + cur + ` is readable by others (mode 0604); run chmod 600 ` + cur + `" operators=[]`},
		{"the new key alone in operator.key", func() { replaceFile(t, cur, string(nextKey), 0o600) }, []chain.Address{k.Next},
			`level=INFO msg="hot keys: reloaded" ` + addrs(k.Next)},
	} {
		logs.Reset()
		step.do()
		got := operatorAddrs(ops.held())
		if !slices.Equal(got, step.want) {
			t.Fatalf("%s: held %v, want %v", step.name, got, step.want)
		}
		ops.held()
		if line := strings.TrimSuffix(logs.String(), "\n"); !strings.HasSuffix(line, step.log) || strings.Count(line, "\n") != 0 {
			t.Fatalf("%s: logged\n%s\nwant one line ending\n%s", step.name, line, step.log)
		}
	}
}

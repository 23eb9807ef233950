package node_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node"
)

// readFile is a file's content, failing the test if it cannot be read.
func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A rotation of the operator key writes operator.next.key (0600) beside operator.key,
// refuses a second rotation, and its retire puts the new key in operator.key and removes the
// old one, once, and only if the keys are the ones the caller checked.
func TestOperatorKeyRotationFiles(t *testing.T) {
	home := initHome(t, testKey(t, "owner"), "pebble")
	cur, next := filepath.Join(home, node.OperatorKeyFile), filepath.Join(home, node.OperatorNextKeyFile)
	before, err := node.ReadOperatorKeys(home)
	if err != nil || before.Rotating() {
		t.Fatalf("a new home: %+v, %v; want one key", before, err)
	}
	oldKey := readFile(t, cur)

	k, err := node.RotateOperatorKey(home)
	if err != nil {
		t.Fatal(err)
	}
	if k.Current != before.Current || !k.Rotating() || k.Next == k.Current {
		t.Fatalf("rotate: %+v, want current %s and a new key", k, before.Current)
	}
	if got, err := node.ReadOperatorKeys(home); err != nil || got != k {
		t.Fatalf("read after rotate: %+v, %v; want %+v", got, err, k)
	}
	if fi, err := os.Stat(next); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, %v; want mode 0600", next, fi, err)
	}
	newKey := readFile(t, next)
	if readFile(t, cur) != oldKey {
		t.Fatal("rotate changed operator.key")
	}

	if _, err := node.RotateOperatorKey(home); !errors.Is(err, node.ErrRotationPending) {
		t.Fatalf("second rotate: %v, want ErrRotationPending", err)
	}
	if readFile(t, next) != newKey {
		t.Fatal("a refused rotate changed operator.next.key")
	}
	if err := node.RetireOperatorKey(home, node.OperatorKeys{Current: k.Current, Next: chain.Address{9}}); err == nil || errors.Is(err, node.ErrNoRotation) {
		t.Fatalf("retire of keys other than the home's: %v, want a refusal", err)
	}
	if err := node.RetireOperatorKey(home, k); err != nil {
		t.Fatal(err)
	}
	if readFile(t, cur) != newKey {
		t.Fatal("after retire operator.key does not hold the new key")
	}
	if _, err := os.Stat(next); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after retire %s: %v, want it gone", next, err)
	}
	if got, err := node.ReadOperatorKeys(home); err != nil || got != (node.OperatorKeys{Current: k.Next}) {
		t.Fatalf("read after retire: %+v, %v; want only %s", got, err, k.Next)
	}
	if err := node.RetireOperatorKey(home, node.OperatorKeys{Current: k.Next}); !errors.Is(err, node.ErrNoRotation) {
		t.Fatalf("retire with no rotation: %v, want ErrNoRotation", err)
	}
}

// A deleted operator.key (cut off at once after a leak) is recovered with the commands alone:
// rotate makes a new key, retire puts it in operator.key, and the home opens again.
func TestOperatorKeyRecoversFromADeletedKey(t *testing.T) {
	home := initHome(t, testKey(t, "owner"), "pebble")
	cur := filepath.Join(home, node.OperatorKeyFile)
	if err := os.Remove(cur); err != nil {
		t.Fatal(err)
	}
	k, err := node.RotateOperatorKey(home)
	if err != nil || k.Current != (chain.Address{}) || !k.Rotating() {
		t.Fatalf("rotate with operator.key deleted: %+v, %v; want only a next key", k, err)
	}
	if err := node.RetireOperatorKey(home, k); err != nil {
		t.Fatal(err)
	}
	if got, err := node.ReadOperatorKeys(home); err != nil || got != (node.OperatorKeys{Current: k.Next}) {
		t.Fatalf("after retire: %+v, %v; want %s alone", got, err, k.Next)
	}
	// A file that is there but does not load is not taken for a missing one.
	if err := os.Chmod(cur, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := node.ReadOperatorKeys(home); !errors.Is(err, node.ErrBadKey) {
		t.Fatalf("an exposed operator.key: %v, want ErrBadKey", err)
	}
}

// A rotation of the token writes api.next.token (0600, 64 hex characters), refuses a second
// one, and its retire puts it in api.token.
func TestTokenRotationFiles(t *testing.T) {
	home := initHome(t, testKey(t, "owner"), "pebble")
	cur, next := filepath.Join(home, node.TokenFile), filepath.Join(home, node.TokenNextFile)
	if err := node.RetireToken(home); !errors.Is(err, node.ErrNoRotation) {
		t.Fatalf("retire with no rotation: %v, want ErrNoRotation", err)
	}
	tok, err := node.RotateToken(home)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := node.LoadToken(next); err != nil || got != tok || len(tok) != 64 {
		t.Fatalf("%s holds %q, %v; want the 64-character token rotate returned", next, got, err)
	}
	if _, err := node.RotateToken(home); !errors.Is(err, node.ErrRotationPending) {
		t.Fatalf("second rotate: %v, want ErrRotationPending", err)
	}
	if err := node.RetireToken(home); err != nil {
		t.Fatal(err)
	}
	if got, err := node.LoadToken(cur); err != nil || got != tok {
		t.Fatalf("after retire %s holds %q, %v; want the new token", cur, got, err)
	}
	if _, err := os.Stat(next); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after retire %s: %v, want it gone", next, err)
	}

	// A token revoked by deleting api.token is replaced the same way.
	if err := os.Remove(cur); err != nil {
		t.Fatal(err)
	}
	if tok, err = node.RotateToken(home); err != nil {
		t.Fatalf("rotate with api.token deleted: %v", err)
	}
	if err := node.RetireToken(home); err != nil {
		t.Fatal(err)
	}
	if got, err := node.LoadToken(cur); err != nil || got != tok {
		t.Fatalf("after rotate and retire with api.token deleted, %s holds %q, %v; want the new token", cur, got, err)
	}
	// A directory that is not a home gets nothing.
	dir := t.TempDir()
	if _, err := node.RotateToken(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("rotate in a directory with no config: %v, want it refused", err)
	}
	if _, err := os.Stat(filepath.Join(dir, node.TokenNextFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("rotate in a directory with no config wrote %s: %v", node.TokenNextFile, err)
	}
}

// Plan says, for each program naming the old key, what its owner sets during the handover
// and at the end, keeping the program's other operators; CheckRetire refuses while any
// program names the old key, as operator or owner.
func TestOperatorRotationPlanAndRetireCheck(t *testing.T) {
	old, newer := chain.Address{0x01}, chain.Address{0x02}
	pos, owner := chain.Address{0x03}, chain.Address{0x04}
	k := node.OperatorKeys{Current: old, Next: newer}
	programs := []chain.Program{
		{Symbol: "ACME", Owner: owner, Operators: []chain.Address{old, pos}},
		{Symbol: "BETA", Owner: owner, Operators: []chain.Address{pos, newer, old}},
		{Symbol: "GAMMA", Owner: owner, Operators: []chain.Address{newer}},
		{Symbol: "DELTA", Owner: old},
		{Symbol: "EPS", Owner: owner, Operators: []chain.Address{pos}},
	}
	want := []node.ProgramRotation{
		{Program: "ACME", Owner: owner, Handover: []chain.Address{newer, old, pos}, Final: []chain.Address{newer, pos}},
		{Program: "BETA", Owner: owner, Handover: []chain.Address{pos, newer, old}, Final: []chain.Address{pos, newer}, NextListed: true},
		{Program: "DELTA", Owner: old, Handover: []chain.Address{newer}, Final: []chain.Address{newer}, OwnedByCurrent: true},
	}
	if got := k.Plan(programs); !reflect.DeepEqual(got, want) {
		t.Fatalf("plan:\n got %+v\nwant %+v", got, want)
	}
	if programs[0].Operators[0] != old || len(programs[0].Operators) != 2 {
		t.Fatal("Plan changed a program's operators")
	}
	if got := (node.OperatorKeys{Current: old}).Plan(programs); got != nil {
		t.Fatalf("plan with no rotation: %+v, want nothing", got)
	}

	err := k.CheckRetire(programs)
	wantErr := "node: the chain still names the old operator key: ACME, BETA still list " + old.Hex() +
		" as an operator; DELTA is owned by " + old.Hex()
	if !errors.Is(err, node.ErrOperatorKeyInUse) || err.Error() != wantErr {
		t.Fatalf("check retire:\n got %v\nwant %s", err, wantErr)
	}
	done := []chain.Program{
		{Symbol: "ACME", Owner: owner, Operators: []chain.Address{newer, pos}},
		{Symbol: "GAMMA", Owner: owner, Operators: []chain.Address{newer}},
		{Symbol: "EPS", Owner: owner, Operators: []chain.Address{pos}},
	}
	if err := k.CheckRetire(done); err != nil {
		t.Fatalf("check retire once no program names the old key: %v", err)
	}
	if err := (node.OperatorKeys{Current: old}).CheckRetire(done); !errors.Is(err, node.ErrNoRotation) {
		t.Fatalf("check retire with no rotation: %v, want ErrNoRotation", err)
	}
}

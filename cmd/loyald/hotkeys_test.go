package main

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"go.uber.org/goleak"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node"
	"github.com/loyal-ledger/loyal/wallet"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// loyald runs the command line in-process: its stdout, stderr and error.
func loyald(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut strings.Builder
	app := newApp()
	app.Writer, app.ErrWriter = &out, &errOut
	err := app.Run(append([]string{"loyald"}, args...))
	return out.String(), errOut.String(), err
}

// mustLoyald runs a command that must succeed and returns its stdout.
func mustLoyald(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := loyald(t, args...)
	if err != nil {
		t.Fatalf("loyald %s: %v (stderr %q)", strings.Join(args, " "), err, errOut)
	}
	return out
}

// runningNode starts a node on a fresh home owned by owner, with its API on an ephemeral
// port of 127.0.0.1; it stops when the test ends.
func runningNode(t *testing.T, owner *ecdsa.PrivateKey) (home, url string) {
	t.Helper()
	home = filepath.Join(t.TempDir(), "node")
	if _, err := node.Init(home, node.InitOptions{
		Owner: crypto.PubkeyToAddress(owner.PublicKey), GenesisTime: uint64(time.Now().Unix()) - 3600, Listen: "127.0.0.1:0",
	}); err != nil {
		t.Fatal(err)
	}
	n, err := node.Open(home, node.NewLogger(node.LogConfig{Level: "warn", Format: "text"}, io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		if err := n.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return home, n.APIURL()
}

func testKey(t *testing.T, name string) *ecdsa.PrivateKey {
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte("loyald test " + name)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// commit signs p with key, submits it and waits until it is committed.
func commit(t *testing.T, url string, key *ecdsa.PrivateKey, p chain.Payload) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl := &wallet.Client{BaseURL: url}
	signer, err := cl.Signer(ctx)
	if err != nil {
		t.Fatal(err)
	}
	acc, err := cl.Account(ctx, crypto.PubkeyToAddress(key.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	tx := chain.NewTx(signer.ChainID(), acc.Nonce, 0, p)
	if err := signer.Sign(tx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.SubmitTx(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if info, err := cl.Tx(ctx, tx.Hash(), 20*time.Second); err != nil || info.Status != "committed" {
		t.Fatalf("%s: %+v, %v; want committed", tx.Kind(), info, err)
	}
}

// The operator commands on a running node: list shows the keys, rotate prints for each program
// the owner's two updates (keeping its other operators), retire refuses while the chain still
// names the old key and says what to run, then removes it.
func TestOperatorCommands(t *testing.T) {
	ownerKey := testKey(t, "owner")
	owner := crypto.PubkeyToAddress(ownerKey.PublicKey)
	pos := chain.Address{0xaa}
	home, url := runningNode(t, ownerKey)
	k, err := node.ReadOperatorKeys(home)
	if err != nil {
		t.Fatal(err)
	}
	old := k.Current
	commit(t, url, ownerKey, &chain.RegisterProgram{Symbol: "ACME", Name: "Acme", Operators: []chain.Address{old, pos}})
	commit(t, url, ownerKey, &chain.RegisterProgram{Symbol: "BETA", Name: "Beta"})

	if out := mustLoyald(t, "operator", "list", "--home", home); out != "current  "+old.Hex()+"  "+filepath.Join(home, "operator.key")+"\n" {
		t.Fatalf("list before the rotation:\n%s", out)
	}
	out := mustLoyald(t, "operator", "rotate", "--home", home, "--node", url)
	k, err = node.ReadOperatorKeys(home)
	if err != nil || !k.Rotating() {
		t.Fatalf("after rotate: %+v, %v", k, err)
	}
	newer := k.Next
	want := "new operator key " + newer.Hex() + " in " + filepath.Join(home, "operator.next.key") + "\n" +
		"the running node holds it beside " + old.Hex() + " and signs for a program with it as soon as the program lists it\n" +
		"ACME (owner " + owner.Hex() + "):\n" +
		"  1. add the new key (both work meanwhile):\n" +
		"     loyal program update --symbol ACME --operator " + newer.Hex() + " --operator " + old.Hex() + " --operator " + pos.Hex() + " --from " + owner.Hex() + " --wait\n" +
		"  2. once that is committed, remove the old key:\n" +
		"     loyal program update --symbol ACME --operator " + newer.Hex() + " --operator " + pos.Hex() + " --from " + owner.Hex() + " --wait\n" +
		"then: loyald operator retire --home " + home + "\n"
	if out != want {
		t.Fatalf("rotate printed:\n%s\nwant:\n%s", out, want)
	}
	if out := mustLoyald(t, "operator", "list", "--home", home); out != "current  "+old.Hex()+"  "+filepath.Join(home, "operator.key")+"\n"+
		"next     "+newer.Hex()+"  "+filepath.Join(home, "operator.next.key")+"\n" {
		t.Fatalf("list during the rotation:\n%s", out)
	}
	if _, _, err := loyald(t, "operator", "rotate", "--home", home, "--node", url); !errors.Is(err, node.ErrRotationPending) {
		t.Fatalf("second rotate: %v, want ErrRotationPending", err)
	}

	out, errOut, err := loyald(t, "operator", "retire", "--home", home, "--node", url)
	if !errors.Is(err, node.ErrOperatorKeyInUse) || out != "" {
		t.Fatalf("retire while ACME lists the old key: %v, stdout %q; want ErrOperatorKeyInUse", err, out)
	}
	if !strings.Contains(errOut, "     loyal program update --symbol ACME --operator "+newer.Hex()+" --operator "+pos.Hex()+" --from "+owner.Hex()+" --wait\n") {
		t.Fatalf("the refused retire does not say what to run:\n%s", errOut)
	}
	// Another chain's node is no witness of this one's programs.
	_, otherURL := runningNode(t, testKey(t, "other owner"))
	if _, _, err := loyald(t, "operator", "retire", "--home", home, "--node", otherURL); err == nil || !strings.Contains(err.Error(), "runs another chain") {
		t.Fatalf("retire checked against another chain's node: %v, want a refusal", err)
	}
	// Without a URL the home's api.listen (port 0 here) gives none: retire refuses to guess.
	if _, _, err := loyald(t, "operator", "retire", "--home", home); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("retire with no node to ask: %v, want a refusal naming --force", err)
	}

	commit(t, url, ownerKey, &chain.UpdateProgram{Program: "ACME", SetOperators: true, Operators: []chain.Address{newer, old, pos}})
	commit(t, url, ownerKey, &chain.UpdateProgram{Program: "ACME", SetOperators: true, Operators: []chain.Address{newer, pos}})
	out = mustLoyald(t, "operator", "retire", "--home", home, "--node", url)
	if want := "retired " + old.Hex() + ": " + filepath.Join(home, "operator.key") + " now holds " + newer.Hex() + ", the only operator key the running node holds from its next request\n"; out != want {
		t.Fatalf("retire printed %q, want %q", out, want)
	}
	if out := mustLoyald(t, "operator", "list", "--home", home); out != "current  "+newer.Hex()+"  "+filepath.Join(home, "operator.key")+"\n" {
		t.Fatalf("list after retire:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(home, "operator.next.key")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("operator.next.key after retire: %v, want it gone", err)
	}
	if _, _, err := loyald(t, "operator", "retire", "--home", home, "--node", url); !errors.Is(err, node.ErrNoRotation) {
		t.Fatalf("retire with no rotation: %v, want ErrNoRotation", err)
	}

	// Without the chain: rotate prints the general form, retire --force does not ask.
	out = mustLoyald(t, "operator", "rotate", "--home", home)
	if !strings.Contains(out, "could not read the programs on chain") || !strings.Contains(out, "loyal program update --symbol SYMBOL --operator ") {
		t.Fatalf("rotate with no node to ask:\n%s", out)
	}
	if _, errOut, err := loyald(t, "operator", "retire", "--home", home, "--force"); err != nil || !strings.Contains(errOut, "without reading the chain (--force)") {
		t.Fatalf("retire --force: %v, stderr %q", err, errOut)
	}
}

// The token commands on a running node: rotate prints the new token, which the node accepts
// beside the old one; retire makes it the only one.
func TestTokenCommands(t *testing.T) {
	home, url := runningNode(t, testKey(t, "owner"))
	oldTok, err := node.LoadToken(filepath.Join(home, node.TokenFile))
	if err != nil {
		t.Fatal(err)
	}
	out := mustLoyald(t, "token", "rotate", "--home", home)
	lines := strings.Split(out, "\n")
	if len(lines) != 4 || len(lines[1]) != 64 || lines[2] != "once the shop's back end sends it: loyald token retire --home "+home {
		t.Fatalf("rotate printed:\n%s", out)
	}
	newTok := lines[1]
	if got, err := node.LoadToken(filepath.Join(home, node.TokenNextFile)); err != nil || got != newTok {
		t.Fatalf("api.next.token holds %q, %v; want the printed token", got, err)
	}
	// The merchant endpoints answer a token they accept with a refusal of the empty body
	// (400), one they do not with 401.
	statusWith := func(tok string) int {
		t.Helper()
		req, err := http.NewRequest("POST", url+"/v1/merchant/reverse", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if a, b := statusWith(oldTok), statusWith(newTok); a != http.StatusBadRequest || b != http.StatusBadRequest {
		t.Fatalf("during the rotation: old token %d, new %d; want both accepted (400 for the empty request)", a, b)
	}
	if _, _, err := loyald(t, "token", "rotate", "--home", home); !errors.Is(err, node.ErrRotationPending) {
		t.Fatalf("second rotate: %v, want ErrRotationPending", err)
	}
	out = mustLoyald(t, "token", "retire", "--home", home)
	if want := "retired the old API token: " + filepath.Join(home, "api.token") + " now holds the new one; the running node refuses the old one from its next request\n"; out != want {
		t.Fatalf("retire printed %q, want %q", out, want)
	}
	if a, b := statusWith(oldTok), statusWith(newTok); a != http.StatusUnauthorized || b != http.StatusBadRequest {
		t.Fatalf("after retire: old token %d, new %d; want 401, accepted", a, b)
	}
	if _, _, err := loyald(t, "token", "retire", "--home", home); !errors.Is(err, node.ErrNoRotation) {
		t.Fatalf("retire with no rotation: %v, want ErrNoRotation", err)
	}

	// api.token deleted, which revokes the token at once: rotate makes the one token accepted.
	cur := filepath.Join(home, node.TokenFile)
	if err := os.Remove(cur); err != nil {
		t.Fatal(err)
	}
	out = mustLoyald(t, "token", "rotate", "--home", home)
	lines = strings.Split(out, "\n")
	if want := "new API token in " + filepath.Join(home, node.TokenNextFile) + "; the running node accepts it, and no other (node: bad key file: stat " + cur +
		": no such file or directory), from its next request:"; len(lines) != 4 || lines[0] != want || len(lines[1]) != 64 {
		t.Fatalf("rotate with api.token deleted printed:\n%s\nwant first\n%s", out, want)
	}
	if a, b := statusWith(newTok), statusWith(lines[1]); a != http.StatusUnauthorized || b != http.StatusBadRequest {
		t.Fatalf("with api.token deleted and a new next token: revoked token %d, new %d; want 401, accepted", a, b)
	}
}

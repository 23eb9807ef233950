package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/loyal-ledger/loyal/internal/cliargs"
	"github.com/loyal-ledger/loyal/wallet"
)

// loyal runs the CLI in-process and returns its exit status, stdout and stderr.
func loyal(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut strings.Builder
	code := run(context.Background(), append([]string{"loyal"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// failsWith checks the error contract: the status, and exactly one line on stderr.
func failsWith(t *testing.T, wantCode int, wantMsg string, args ...string) {
	t.Helper()
	code, out, errOut := loyal(t, args...)
	if code != wantCode {
		t.Errorf("loyal %s: exit %d, want %d (stderr %q)", strings.Join(args, " "), code, wantCode, errOut)
	}
	if out != "" {
		t.Errorf("loyal %s: stdout %q, want nothing", strings.Join(args, " "), out)
	}
	if strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "loyal: ") || !strings.Contains(errOut, wantMsg) {
		t.Errorf("loyal %s: stderr %q, want one line \"loyal: ...%s...\"", strings.Join(args, " "), errOut, wantMsg)
	}
}

// withStdin makes content what the CLI reads on stdin, until the test ends.
func withStdin(t *testing.T, content string) {
	t.Helper()
	old := stdin
	stdin = strings.NewReader(content)
	t.Cleanup(func() { stdin = old })
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestKeyCommands(t *testing.T) {
	t.Setenv(wallet.EnvPassphrase, "")
	ks := filepath.Join(t.TempDir(), "ks")
	pw := writeFile(t, "pw", "secret\n")
	base := []string{"--keystore", ks, "--light-kdf", "--passphrase-file", pw}

	// Flags after the command and its argument, as in the README.
	code, out, errOut := loyal(t, "key", "new", "alice", "--light-kdf", "--keystore", ks, "--passphrase-file", pw)
	if code != 0 || errOut != "" {
		t.Fatalf("key new: exit %d, stderr %q", code, errOut)
	}
	if !strings.HasPrefix(out, "created key alice 0x") {
		t.Errorf("key new printed %q", out)
	}

	code, out, _ = loyal(t, append([]string{"--json", "key", "list"}, base...)...)
	var keys []struct{ Name, Address, File string }
	if err := json.Unmarshal([]byte(out), &keys); code != 0 || err != nil || len(keys) != 1 || keys[0].Name != "alice" {
		t.Fatalf("key list --json: exit %d, %v, %q", code, err, out)
	}
	alice := keys[0].Address

	code, out, _ = loyal(t, append([]string{"key", "list"}, base...)...)
	if code != 0 || !strings.Contains(out, "alice  "+alice) {
		t.Errorf("key list: exit %d, %q", code, out)
	}

	// Export, then import the file into another keystore: same address.
	code, exported, _ := loyal(t, append([]string{"key", "export", strings.ToLower(alice)}, base...)...)
	if code != 0 || !json.Valid([]byte(exported)) {
		t.Fatalf("key export: exit %d, %q", code, exported)
	}
	file := writeFile(t, "alice.json", exported)
	other := filepath.Join(t.TempDir(), "other")
	code, out, errOut = loyal(t, "--json", "key", "import", "a2", file, "--keystore", other, "--light-kdf", "--passphrase-file", pw)
	var got struct{ Name, Address string }
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil {
		t.Fatalf("key import: exit %d, %v, %q, %q", code, err, out, errOut)
	}
	if got.Name != "a2" || got.Address != alice {
		t.Errorf("key import = %+v, want a2 %s", got, alice)
	}

	// A hex private key, from a file or from stdin; never as the argument itself, where
	// shells keep it in their history and other users see it in the process list.
	priv, _ := crypto.GenerateKey()
	hexKey := hex.EncodeToString(crypto.FromECDSA(priv))
	code, out, errOut = loyal(t, append([]string{"key", "import", "shop", writeFile(t, "shop.hex", hexKey+"\n")}, base...)...)
	if want := crypto.PubkeyToAddress(priv.PublicKey).Hex(); code != 0 || !strings.Contains(out, "imported key shop "+want) {
		t.Errorf("key import from a hex file: exit %d, %q, %q", code, out, errOut)
	}
	priv2, _ := crypto.GenerateKey()
	withStdin(t, "0x"+hex.EncodeToString(crypto.FromECDSA(priv2))+"\n")
	code, out, errOut = loyal(t, append([]string{"key", "import", "till", "-"}, base...)...)
	if want := crypto.PubkeyToAddress(priv2.PublicKey).Hex(); code != 0 || !strings.Contains(out, "imported key till "+want) {
		t.Errorf("key import - (hex on stdin): exit %d, %q, %q", code, out, errOut)
	}
	withStdin(t, exported)
	code, out, errOut = loyal(t, "key", "import", "a4", "-", "--keystore", t.TempDir(), "--light-kdf", "--passphrase-file", pw)
	if code != 0 || !strings.Contains(out, "imported key a4 "+alice) {
		t.Errorf("key import - (v3 file on stdin): exit %d, %q, %q", code, out, errOut)
	}
	priv3, _ := crypto.GenerateKey()
	for _, arg := range []string{hex.EncodeToString(crypto.FromECDSA(priv3)), "0x" + hex.EncodeToString(crypto.FromECDSA(priv3)), hex.EncodeToString(crypto.FromECDSA(priv3))[1:]} {
		failsWith(t, 2, "refusing a private key given on the command line", append([]string{"key", "import", "cash", arg}, base...)...)
		_, _, errOut = loyal(t, append([]string{"key", "import", "cash", arg}, base...)...)
		if strings.Contains(errOut, arg[len(arg)-40:]) || !strings.Contains(errOut, "loyal key import cash - < FILE") {
			t.Errorf("refusal echoes the key or says not what to do: %q", errOut)
		}
	}
	withStdin(t, "")
	failsWith(t, 1, "stdin holds neither a v3 key file nor a hex private key", append([]string{"key", "import", "cash", "-"}, base...)...)
	failsWith(t, 1, "no such file", append([]string{"key", "import", "cash", "missing.json"}, base...)...)
	code, out, _ = loyal(t, append([]string{"--json", "key", "list"}, base...)...)
	if code != 0 || strings.Contains(out, "cash") {
		t.Errorf("a refused import stored a key: %q", out)
	}

	failsWith(t, 1, "a key with this name already exists", append([]string{"key", "new", "alice"}, base...)...)
	failsWith(t, 1, "unknown key \"carol\"", append([]string{"key", "export", "carol"}, base...)...)
	failsWith(t, 1, "wrong passphrase for key file", "key", "import", "a3", file, "--keystore", t.TempDir(), "--light-kdf",
		"--passphrase-file", writeFile(t, "bad", "nope\n"))
	failsWith(t, 1, "no passphrase given: stdin is not a terminal; use --passphrase-file FILE or set LOYAL_PASSPHRASE",
		"key", "new", "bob", "--keystore", ks, "--light-kdf")
	failsWith(t, 2, "usage: loyal key new NAME", append([]string{"key", "new"}, base...)...)
	failsWith(t, 2, "invalid key name", append([]string{"key", "new", "0xbeef"}, base...)...)

	// A transaction from a key that does not exist fails before any passphrase or network.
	failsWith(t, 1, "unknown key \"carol\"", append([]string{"transfer", "--from", "carol", "--program", "ACME", "--to", alice, "--amount", "5"}, base...)...)
	// A wrong passphrase fails before the network too.
	failsWith(t, 1, "wrong passphrase for key \"alice\"", "transfer", "--from", "alice", "--program", "ACME", "--to", alice, "--amount", "5",
		"--keystore", ks, "--passphrase-file", writeFile(t, "bad", "nope\n"))
}

func TestUsageErrors(t *testing.T) {
	to := "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
	ks := t.TempDir()
	tests := []struct {
		msg  string
		args []string
	}{
		{`unknown command "loyal frobnicate"`, []string{"frobnicate"}},
		{`unknown command "loyal key frob"`, []string{"key", "frob"}},
		{"transfer: flag provided but not defined: -bogus", []string{"transfer", "--bogus"}},
		{"flag provided but not defined: -bogus", []string{"--bogus", "status"}},
		{"transfer: missing --from", []string{"transfer", "--program", "ACME", "--to", to, "--amount", "1"}},
		{"transfer: missing --amount", []string{"transfer", "--from", "a", "--program", "ACME", "--to", to}},
		{`--amount: wallet: invalid amount "-5": points cannot be negative`, []string{"transfer", "--from", "a", "--program", "ACME", "--to", to, "--amount", "-5"}},
		{`--amount: wallet: invalid amount "2.5": points are whole numbers`, []string{"redeem", "--from", "a", "--program", "ACME", "--amount", "2.5", "--reward-ref", "r"}},
		{"exceeds the maximum of 18446744073709551615 points", []string{"exchange", "--from", "a", "--from-program", "A1", "--to-program", "B1", "--amount", "18446744073709551616"}},
		{"--amount: must be greater than zero", []string{"reverse", "--from", "a", "--program", "ACME", "--order-ref", "o", "--amount", "0"}},
		{`--program: "AC-ME" is not a program symbol`, []string{"settle", "--from", "a", "--program", "AC-ME", "--counterparty", "BETA", "--amount", "1"}},
		{"EIP-55 checksum mismatch", []string{"transfer", "--from", "a", "--program", "ACME", "--to", strings.Replace(to, "a", "A", 1), "--amount", "1"}},
		{"rate set: missing --den", []string{"rate", "set", "--from", "a", "--from-program", "A1", "--to-program", "B1", "--num", "1"}},
		{"earn: give either --credits or --to, --amount and --order-ref", []string{"earn", "--from", "a", "--program", "ACME", "--credits", "x.json", "--to", to}},
		{"program update: nothing to change", []string{"program", "update", "--from", "a", "--symbol", "ACME"}},
		{"--tier and --clear-tiers exclude each other", []string{"program", "update", "--from", "a", "--symbol", "ACME", "--tier", "gold=5", "--clear-tiers"}},
		{`--tier: wallet: invalid tier "gold": want NAME=THRESHOLD`, []string{"program", "register", "--from", "a", "--symbol", "ACME", "--name", "Acme", "--tier", "gold"}},
		{"history: --limit must be 1 to 1000", []string{"history", to, "--limit", "1001"}},
		{"usage: loyal balance ADDRESS-OR-KEYNAME", []string{"balance"}},
		{"usage: loyal status", []string{"status", "extra"}},
		{`invalid hash "0x12"`, []string{"tx", "0x12"}},
		{`program: "a-b" is neither a program symbol nor a command`, []string{"program", "a-b"}},
		{"invalid value \"soon\" for flag -timeout", []string{"status", "--timeout", "soon"}},
	}
	for _, tt := range tests {
		failsWith(t, 2, tt.msg, append(tt.args, "--keystore", ks)...)
	}
}

func TestHelpPrintsNoError(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {}, {"key"}, {"program"}, {"transfer", "--help"}, {"help", "earn"}, {"rate", "set", "-h"}} {
		code, out, errOut := loyal(t, args...)
		if code != 0 || errOut != "" || !strings.Contains(out, "USAGE") {
			t.Errorf("loyal %v: exit %d, stderr %q, stdout %.60q", args, code, errOut, out)
		}
	}
}

func TestReportAPIError(t *testing.T) {
	var errOut strings.Builder
	err := fmt.Errorf("wrapped: %w", &wallet.APIError{Status: 422, Code: "insufficient_points", Message: "insufficient available points"})
	if code := report(&errOut, errors.Unwrap(err)); code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if got := errOut.String(); got != "loyal: insufficient_points: insufficient available points\n" {
		t.Errorf("stderr %q", got)
	}
	errOut.Reset()
	report(&errOut, errors.New("two\nlines"))
	if got := errOut.String(); got != "loyal: two; lines\n" {
		t.Errorf("a multi-line error printed %q", got)
	}
}

func TestNormalizeArgs(t *testing.T) {
	app := newApp(nil, nil)
	tests := []struct{ in, want string }{
		{"key new alice --light-kdf --keystore /tmp/ks --passphrase-file pw", "--light-kdf --keystore /tmp/ks --passphrase-file pw key new alice"},
		{"--json balance alice", "--json balance alice"},
		{"balance alice --json --node=http://x", "--json --node=http://x balance alice"},
		{"transfer --from a --amount 5 --json --to b --wait", "--json transfer --from a --amount 5 --to b --wait"},
		{"history alice --all --limit 10 --timeout 5s", "--timeout 5s history --all --limit 10 alice"},
		{"program ACME --json", "--json program ACME"},
		{"program update --symbol ACME --retire --from k", "program update --symbol ACME --retire --from k"},
		{"rate set --num 1 --den 2 --node u", "--node u rate set --num 1 --den 2"},
		{"transfer --amount -5 --from a", "transfer --amount -5 --from a"},
		{"key import k -- -odd-file", "key import -- k -odd-file"},
		{"help key new", "help key new"},
		{"key new --bogus x alice", "key new --bogus x alice"},
		{"balance alice -h", "balance -h alice"},
		{"balance alice --json=false", "--json=false balance alice"},
	}
	for _, tt := range tests {
		got := cliargs.Normalize(app.Flags, app.Commands, strings.Fields(tt.in))
		if want := strings.Fields(tt.want); !reflect.DeepEqual(got, want) {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, want)
		}
	}
}

package wallet

import (
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/loyal-ledger/loyal/chain"
)

func openTestKeystore(t *testing.T) *Keystore {
	t.Helper()
	ks, err := OpenKeystore(filepath.Join(t.TempDir(), "keystore"), true)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestKeystoreNewListResolveUnlock(t *testing.T) {
	ks := openTestKeystore(t)
	alice, err := ks.New("alice", "pw-alice")
	if err != nil {
		t.Fatal(err)
	}
	bob, err := ks.New("bob", "pw-bob")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("files are private", func(t *testing.T) {
		if m := mode(t, ks.Dir()); m != 0o700 {
			t.Errorf("keystore dir mode %o, want 700", m)
		}
		for _, f := range []string{alice.File, bob.File, filepath.Join(ks.Dir(), NamesFile)} {
			if m := mode(t, f); m != 0o600 {
				t.Errorf("%s mode %o, want 600", filepath.Base(f), m)
			}
		}
	})

	t.Run("list shows names, addresses and files sorted by name", func(t *testing.T) {
		keys, err := ks.List()
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) != 2 || keys[0] != alice || keys[1] != bob {
			t.Fatalf("List = %+v, want [%+v %+v]", keys, alice, bob)
		}
	})

	t.Run("resolve by name and by address in any valid case", func(t *testing.T) {
		hexAddr := alice.Address.Hex()
		for _, in := range []string{"alice", hexAddr, strings.ToLower(hexAddr), "0x" + strings.ToUpper(hexAddr[2:]), "0X" + strings.ToLower(hexAddr[2:])} {
			got, err := ks.Resolve(in)
			if err != nil || got != alice.Address {
				t.Errorf("Resolve(%q) = %s, %v; want %s", in, got.Hex(), err, alice.Address.Hex())
			}
		}
	})

	t.Run("resolve rejects a broken checksum and unknown names", func(t *testing.T) {
		if _, err := ks.Resolve(flipCase(alice.Address.Hex())); !errors.Is(err, ErrBadAddress) {
			t.Errorf("bad checksum: err = %v, want ErrBadAddress", err)
		}
		if _, err := ks.Resolve("carol"); !errors.Is(err, ErrUnknownKey) {
			t.Errorf("unknown name: err = %v, want ErrUnknownKey", err)
		}
	})

	t.Run("unlock by name and by address gives the key of the address", func(t *testing.T) {
		for _, in := range []string{"alice", strings.ToLower(alice.Address.Hex())} {
			key, err := ks.Unlock(in, "pw-alice")
			if err != nil {
				t.Fatal(err)
			}
			if got := crypto.PubkeyToAddress(key.PublicKey); got != alice.Address {
				t.Errorf("Unlock(%q) key of %s, want %s", in, got.Hex(), alice.Address.Hex())
			}
			ZeroKey(key)
			if secret := crypto.FromECDSA(key); string(secret) != string(make([]byte, 32)) {
				t.Error("ZeroKey left the secret")
			}
		}
	})

	t.Run("wrong passphrase", func(t *testing.T) {
		_, err := ks.Unlock("alice", "pw-bob")
		if !errors.Is(err, ErrWrongPassphrase) || !errors.Is(err, keystore.ErrDecrypt) {
			t.Errorf("err = %v, want ErrWrongPassphrase wrapping keystore.ErrDecrypt", err)
		}
	})

	t.Run("unknown key", func(t *testing.T) {
		other := chain.Address{1, 2, 3}
		for _, in := range []string{"carol", other.Hex()} {
			if _, err := ks.Unlock(in, "x"); !errors.Is(err, ErrUnknownKey) {
				t.Errorf("Unlock(%q) err = %v, want ErrUnknownKey", in, err)
			}
			if _, err := ks.Export(in); !errors.Is(err, ErrUnknownKey) {
				t.Errorf("Export(%q) err = %v, want ErrUnknownKey", in, err)
			}
		}
	})

	t.Run("duplicate name", func(t *testing.T) {
		if _, err := ks.New("alice", "x"); !errors.Is(err, ErrDuplicateName) {
			t.Errorf("err = %v, want ErrDuplicateName", err)
		}
		keys, _ := ks.List()
		if len(keys) != 2 {
			t.Errorf("a refused New left %d keys, want 2", len(keys))
		}
	})

	t.Run("names survive reopening", func(t *testing.T) {
		again, err := OpenKeystore(ks.Dir(), false)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := again.Resolve("bob"); err != nil || got != bob.Address {
			t.Errorf("Resolve(bob) after reopen = %s, %v", got.Hex(), err)
		}
	})
}

// flipCase swaps the case of the first hex letter, breaking an EIP-55 checksum.
func flipCase(a string) string {
	b := []byte(a)
	for i := 2; i < len(b); i++ {
		switch {
		case b[i] >= 'a' && b[i] <= 'f':
			b[i] -= 'a' - 'A'
			return string(b)
		case b[i] >= 'A' && b[i] <= 'F':
			b[i] += 'a' - 'A'
			return string(b)
		}
	}
	panic("address without letters")
}

func TestKeystoreNames(t *testing.T) {
	ks := openTestKeystore(t)
	for _, name := range []string{"", "0xabc", "0Xabc", "-x", ".x", "a b", "a/b", strings.Repeat("a", 65), "ä"} {
		if _, err := ks.New(name, "pw"); !errors.Is(err, ErrBadName) {
			t.Errorf("New(%q) err = %v, want ErrBadName", name, err)
		}
	}
	for _, name := range []string{"a", "Alice_1", "shop.hot-key", strings.Repeat("a", 64)} {
		if !ValidName(name) {
			t.Errorf("ValidName(%q) = false", name)
		}
	}
}

func TestKeystoreImportHex(t *testing.T) {
	ks := openTestKeystore(t)
	priv, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	want := crypto.PubkeyToAddress(priv.PublicKey)
	hexKey := hex.EncodeToString(crypto.FromECDSA(priv))
	file := filepath.Join(t.TempDir(), "shop.hex")
	if err := os.WriteFile(file, []byte("0x"+hexKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	info, err := ks.Import("shop", file, "", "pw")
	if err != nil {
		t.Fatal(err)
	}
	if info.Address != want || info.Name != "shop" {
		t.Fatalf("Import = %+v, want address %s", info, want.Hex())
	}
	if m := mode(t, info.File); m != 0o600 {
		t.Errorf("imported file mode %o, want 600", m)
	}
	key, err := ks.Unlock("shop", "pw")
	if err != nil {
		t.Fatal(err)
	}
	if !key.Equal(priv) {
		t.Error("unlocked key differs from the imported one")
	}

	// The same key again, bare hex from a stream this time, under another name.
	if _, err := ks.ImportData("shop2", "stdin", []byte(hexKey), "", "pw"); !errors.Is(err, ErrDuplicateKey) {
		t.Errorf("re-import err = %v, want ErrDuplicateKey", err)
	}
	if _, err := ks.ImportData("shop", "stdin", []byte(hexKey), "", "pw"); !errors.Is(err, ErrDuplicateName) {
		t.Errorf("import under a taken name err = %v, want ErrDuplicateName", err)
	}
	if _, err := ks.ImportData("x", "stdin", []byte("not-a-key"), "", "pw"); err == nil || !strings.Contains(err.Error(), "neither a v3 key file nor a hex private key") {
		t.Errorf("import of garbage err = %v", err)
	}
}

// A private key given where a file's path belongs is refused, and not echoed in the error.
func TestKeystoreImportRefusesAKeyAsPath(t *testing.T) {
	ks := openTestKeystore(t)
	priv, err := crypto.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{hex.EncodeToString(crypto.FromECDSA(priv)), "0x" + hex.EncodeToString(crypto.FromECDSA(priv))} {
		_, err := ks.Import("shop", s, "", "pw")
		if !errors.Is(err, ErrKeyNotFile) {
			t.Fatalf("Import(key as path) err = %v, want ErrKeyNotFile", err)
		}
		if strings.Contains(err.Error(), s[len(s)-40:]) {
			t.Fatalf("the error echoes the key: %v", err)
		}
	}
	if keys, _ := ks.List(); len(keys) != 0 {
		t.Fatalf("a key was stored: %+v", keys)
	}
}

func TestKeystoreExportImportElsewhere(t *testing.T) {
	src := openTestKeystore(t)
	alice, err := src.New("alice", "old-pw")
	if err != nil {
		t.Fatal(err)
	}
	data, err := src.Export(strings.ToLower(alice.Address.Hex()))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "alice.json")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}

	dst := openTestKeystore(t)
	if _, err := dst.Import("alice", file, "wrong", "new-pw"); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("import with the wrong file passphrase err = %v, want ErrWrongPassphrase", err)
	}
	info, err := dst.Import("alice", file, "old-pw", "new-pw")
	if err != nil {
		t.Fatal(err)
	}
	if info.Address != alice.Address {
		t.Fatalf("imported address %s, want %s", info.Address.Hex(), alice.Address.Hex())
	}
	if _, err := dst.Unlock("alice", "new-pw"); err != nil {
		t.Errorf("unlock with the new passphrase: %v", err)
	}
	if _, err := dst.Unlock("alice", "old-pw"); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("unlock with the old passphrase err = %v, want ErrWrongPassphrase", err)
	}
}

func TestKeystoreListsUnnamedKeyFiles(t *testing.T) {
	ks := openTestKeystore(t)
	named, err := ks.New("alice", "pw")
	if err != nil {
		t.Fatal(err)
	}
	// A key file dropped in by another tool has no name but is listed and usable by address.
	other := keystore.NewKeyStore(ks.Dir(), keystore.LightScryptN, keystore.LightScryptP)
	acc, err := other.NewAccount("pw2")
	if err != nil {
		t.Fatal(err)
	}
	// Another process's file: a fresh Keystore (as each CLI run opens) sees it at once.
	ks, err = OpenKeystore(ks.Dir(), true)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := ks.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0] != named || keys[1].Name != "" || keys[1].Address != acc.Address {
		t.Fatalf("List = %+v", keys)
	}
	if _, err := ks.Unlock(acc.Address.Hex(), "pw2"); err != nil {
		t.Errorf("unlock an unnamed key by address: %v", err)
	}
}

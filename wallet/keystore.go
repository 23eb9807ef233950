package wallet

import (
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/ethereum/go-ethereum/accounts"
	"github.com/ethereum/go-ethereum/accounts/keystore"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/internal/fsutil"
)

// EnvKeystore names the environment variable that overrides the default keystore directory.
const EnvKeystore = "LOYAL_KEYSTORE"

// NamesFile is the file in the keystore directory that maps key names to addresses.
const NamesFile = "names.json"

// maxKeyFileBytes bounds what Import reads from a key file (v3 files are under 1 KiB).
const maxKeyFileBytes = 1 << 20

// DefaultKeystoreDir is $LOYAL_KEYSTORE, else ~/.loyal/keystore.
func DefaultKeystoreDir() (string, error) {
	if d := os.Getenv(EnvKeystore); d != "" {
		return d, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("wallet: no keystore directory: set %s or HOME: %w", EnvKeystore, err)
	}
	return filepath.Join(home, ".loyal", "keystore"), nil
}

// KeyInfo describes one key of the keystore.
type KeyInfo struct {
	Name    string        `json:"name"`    // "" for a key file without a name
	Address chain.Address `json:"address"` // EIP-55 in JSON
	File    string        `json:"file"`    // "" for a name whose key file is missing
}

// MarshalJSON writes the address in EIP-55 form, as everywhere people read it.
func (k KeyInfo) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name    string `json:"name"`
		Address string `json:"address"`
		File    string `json:"file"`
	}{k.Name, k.Address.Hex(), k.File})
}

// Keystore is a directory of Web3 Secret Storage (v3) key files, managed by go-ethereum's
// accounts/keystore, plus a names file mapping names to addresses. Every key is encrypted
// with its own passphrase; nothing is kept unlocked. A Keystore is safe for concurrent use
// within one process; two processes changing names at once may lose one of the changes.
type Keystore struct {
	dir string
	ks  *keystore.KeyStore

	mu sync.Mutex // guards the names file's read-modify-write
}

// OpenKeystore opens the keystore in dir, which is created (0700) when the first key is
// stored, so opening one only to resolve names has no side effect. New and imported keys
// are encrypted with standard scrypt parameters, or light ones when light is set (fast, for
// tests and throwaway keys only).
func OpenKeystore(dir string, light bool) (*Keystore, error) {
	if dir == "" {
		return nil, errors.New("wallet: empty keystore directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("wallet: keystore directory: %w", err)
	}
	n, p := keystore.StandardScryptN, keystore.StandardScryptP
	if light {
		n, p = keystore.LightScryptN, keystore.LightScryptP
	}
	return &Keystore{dir: abs, ks: keystore.NewKeyStore(abs, n, p)}, nil
}

// Dir is the keystore's absolute directory.
func (k *Keystore) Dir() string { return k.dir }

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidName reports whether s can name a key: 1 to 64 characters of letters, digits, '.',
// '_' and '-', starting with a letter or digit, and not starting with "0x" (so a name is
// never mistaken for an address).
func ValidName(s string) bool {
	return namePattern.MatchString(s) && !strings.HasPrefix(strings.ToLower(s), "0x")
}

func checkName(name string) error {
	if !ValidName(name) {
		return fmt.Errorf("%w %q: use 1 to 64 letters, digits, '.', '_' or '-', not starting with 0x", ErrBadName, name)
	}
	return nil
}

// New creates a key, encrypts it with passphrase and names it.
func (k *Keystore) New(name, passphrase string) (KeyInfo, error) {
	return k.add(name, func(map[string]chain.Address) (accounts.Account, error) {
		acc, err := k.ks.NewAccount(passphrase)
		if err != nil {
			return acc, fmt.Errorf("wallet: new key: %w", err)
		}
		return acc, nil
	})
}

// add stores a key under a new name: with the keystore locked and the name free, create makes
// the account (it gets the current names), and the name is recorded.
func (k *Keystore) add(name string, create func(names map[string]chain.Address) (accounts.Account, error)) (KeyInfo, error) {
	if err := checkName(name); err != nil {
		return KeyInfo{}, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	names, err := k.readNames()
	if err != nil {
		return KeyInfo{}, err
	}
	if _, ok := names[name]; ok {
		return KeyInfo{}, fmt.Errorf("%w: %q", ErrDuplicateName, name)
	}
	acc, err := create(names)
	if err != nil {
		return KeyInfo{}, err
	}
	return k.name(names, name, acc)
}

// Import stores the key in the file at path under name: a v3 key file, decrypted with
// filePassphrase, or a hex private key (64 digits, 0x optional, surrounding whitespace
// ignored). The stored copy is encrypted with newPassphrase and this keystore's scrypt
// parameters. A private key is read from a file (or, through ImportData, from a stream such
// as stdin), never taken as a string: a key passed as a command-line argument ends up in
// shell histories and process lists.
func (k *Keystore) Import(name, path, filePassphrase, newPassphrase string) (KeyInfo, error) {
	fi, err := os.Stat(path)
	if err != nil && IsHexKey(path) {
		// Not echoed: the error may be printed or logged.
		return KeyInfo{}, fmt.Errorf("%w: import takes the path of a file holding the key", ErrKeyNotFile)
	}
	if err != nil {
		return KeyInfo{}, fmt.Errorf("wallet: import: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return KeyInfo{}, fmt.Errorf("wallet: import: %s is not a regular file", path)
	}
	data, err := readFileLimited(path, maxKeyFileBytes)
	if err != nil {
		return KeyInfo{}, fmt.Errorf("wallet: import: %w", err)
	}
	defer clear(data)
	return k.ImportData(name, path, data, filePassphrase, newPassphrase)
}

// ImportData stores the key in data under name, as Import does with a file's content: a v3
// key file or a hex private key. source names where data came from, for messages.
func (k *Keystore) ImportData(name, source string, data []byte, filePassphrase, newPassphrase string) (KeyInfo, error) {
	if len(data) > maxKeyFileBytes {
		return KeyInfo{}, fmt.Errorf("wallet: import: %s exceeds %d bytes", source, maxKeyFileBytes)
	}
	return k.add(name, func(names map[string]chain.Address) (accounts.Account, error) {
		return k.importAccount(names, source, data, filePassphrase, newPassphrase)
	})
}

// IsHexKey reports whether s is a hex private key as Import reads one: 64 hex digits, 0x
// optional, surrounding whitespace ignored. Anything else Import reads as a v3 key file.
func IsHexKey(s string) bool {
	_, ok := parseHexKey(s)
	return ok
}

// importAccount decrypts or parses data and stores it encrypted with newPassphrase.
func (k *Keystore) importAccount(names map[string]chain.Address, source string, data []byte, filePassphrase, newPassphrase string) (accounts.Account, error) {
	var (
		acc       accounts.Account
		importErr error
	)
	if hexKey, ok := parseHexKey(string(data)); ok {
		priv, err := crypto.HexToECDSA(hexKey)
		if err != nil {
			return accounts.Account{}, fmt.Errorf("wallet: import: invalid private key in %s: %w", source, err)
		}
		acc, importErr = k.ks.ImportECDSA(priv, newPassphrase)
		ZeroKey(priv)
	} else if !json.Valid(data) {
		return accounts.Account{}, fmt.Errorf("wallet: import: %s holds neither a v3 key file nor a hex private key of 64 digits", source)
	} else {
		acc, importErr = k.ks.Import(data, filePassphrase, newPassphrase)
		if errors.Is(importErr, keystore.ErrDecrypt) {
			return accounts.Account{}, fmt.Errorf("%w for key file %s", ErrWrongPassphrase, source)
		}
	}
	if errors.Is(importErr, keystore.ErrAccountAlreadyExists) {
		// The keystore reports the duplicate's address with the error.
		msg := acc.Address.Hex()
		for n, a := range names {
			if a == acc.Address {
				msg += fmt.Sprintf(" (named %q)", n)
			}
		}
		return accounts.Account{}, fmt.Errorf("%w: %s", ErrDuplicateKey, msg)
	}
	if importErr != nil {
		return accounts.Account{}, fmt.Errorf("wallet: import %s: %w", source, importErr)
	}
	return acc, nil
}

func parseHexKey(s string) (string, bool) {
	s = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
	if len(s) != 64 {
		return "", false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return "", false
		}
	}
	return s, true
}

// name records name → acc in the names file and describes the key.
func (k *Keystore) name(names map[string]chain.Address, name string, acc accounts.Account) (KeyInfo, error) {
	names[name] = acc.Address
	if err := k.writeNames(names); err != nil {
		return KeyInfo{}, fmt.Errorf("wallet: key %s was stored in %s but not named: %w", acc.Address.Hex(), acc.URL.Path, err)
	}
	return KeyInfo{Name: name, Address: acc.Address, File: acc.URL.Path}, nil
}

// List describes every key: the named ones sorted by name (with File "" if the key file of
// a name is gone), then key files without a name sorted by address.
func (k *Keystore) List() ([]KeyInfo, error) {
	k.mu.Lock()
	names, err := k.readNames()
	k.mu.Unlock()
	if err != nil {
		return nil, err
	}
	files := make(map[chain.Address]string)
	for _, a := range k.ks.Accounts() {
		if _, dup := files[a.Address]; !dup {
			files[a.Address] = a.URL.Path
		}
	}
	named := make(map[chain.Address]bool)
	out := make([]KeyInfo, 0, len(names)+len(files))
	for n, a := range names {
		out = append(out, KeyInfo{Name: n, Address: a, File: files[a]})
		named[a] = true
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	var unnamed []KeyInfo
	for a, f := range files {
		if !named[a] {
			unnamed = append(unnamed, KeyInfo{Address: a, File: f})
		}
	}
	sort.Slice(unnamed, func(i, j int) bool { return unnamed[i].Address.Cmp(unnamed[j].Address) < 0 })
	return append(out, unnamed...), nil
}

// Resolve maps a key name or an address to an address. An address (0x and 40 hex digits, in
// lower, upper or valid EIP-55 mixed case) resolves to itself whether or not the keystore
// holds its key, so callers can use it for any account; a name must be in the names file.
func (k *Keystore) Resolve(nameOrAddress string) (chain.Address, error) {
	if LooksLikeAddress(nameOrAddress) {
		return ParseAddress(nameOrAddress)
	}
	k.mu.Lock()
	names, err := k.readNames()
	k.mu.Unlock()
	if err != nil {
		return chain.Address{}, err
	}
	a, ok := names[nameOrAddress]
	if !ok {
		return chain.Address{}, fmt.Errorf("%w %q", ErrUnknownKey, nameOrAddress)
	}
	return a, nil
}

// find returns the key file of a name or address.
func (k *Keystore) find(nameOrAddress string) (accounts.Account, error) {
	a, err := k.Resolve(nameOrAddress)
	if err != nil {
		return accounts.Account{}, err
	}
	acc, err := k.ks.Find(accounts.Account{Address: a})
	switch {
	case errors.Is(err, keystore.ErrNoMatch):
		return accounts.Account{}, fmt.Errorf("%w %q: no key file for %s in %s", ErrUnknownKey, nameOrAddress, a.Hex(), k.dir)
	case err != nil:
		return accounts.Account{}, fmt.Errorf("wallet: key %q: %w", nameOrAddress, err)
	}
	return acc, nil
}

// Key describes the key of a name or address, failing with ErrUnknownKey if the keystore
// holds no key file for it. Callers use it to check a key exists before asking for its
// passphrase.
func (k *Keystore) Key(nameOrAddress string) (KeyInfo, error) {
	acc, err := k.find(nameOrAddress)
	if err != nil {
		return KeyInfo{}, err
	}
	info := KeyInfo{Address: acc.Address, File: acc.URL.Path}
	if !LooksLikeAddress(nameOrAddress) {
		info.Name = nameOrAddress
	}
	return info, nil
}

// Export returns the key's v3 JSON file as stored: encrypted with its passphrase, ready for
// any Ethereum wallet (or another Loyal keystore) to import.
func (k *Keystore) Export(nameOrAddress string) ([]byte, error) {
	acc, err := k.find(nameOrAddress)
	if err != nil {
		return nil, err
	}
	data, err := readFileLimited(acc.URL.Path, maxKeyFileBytes)
	if err != nil {
		return nil, fmt.Errorf("wallet: export: %w", err)
	}
	return data, nil
}

// Unlock decrypts the key and returns it. The caller owns the key and should ZeroKey it
// as soon as it has signed.
func (k *Keystore) Unlock(nameOrAddress, passphrase string) (*ecdsa.PrivateKey, error) {
	acc, err := k.find(nameOrAddress)
	if err != nil {
		return nil, err
	}
	data, err := readFileLimited(acc.URL.Path, maxKeyFileBytes)
	if err != nil {
		return nil, fmt.Errorf("wallet: unlock: %w", err)
	}
	key, err := keystore.DecryptKey(data, passphrase)
	if errors.Is(err, keystore.ErrDecrypt) {
		return nil, fmt.Errorf("%w for key %q", ErrWrongPassphrase, nameOrAddress)
	}
	if err != nil {
		return nil, fmt.Errorf("wallet: unlock %s: %w", acc.URL.Path, err)
	}
	if key.Address != acc.Address {
		ZeroKey(key.PrivateKey)
		return nil, fmt.Errorf("wallet: key file %s holds %s, not %s", acc.URL.Path, key.Address.Hex(), acc.Address.Hex())
	}
	return key.PrivateKey, nil
}

// ZeroKey overwrites a private key's secret scalar. The key is unusable afterwards.
func ZeroKey(k *ecdsa.PrivateKey) {
	if k == nil {
		return
	}
	//lint:ignore SA1019 a go-ethereum secp256k1 key holds its secret only in D; wiping it is the point.
	d := k.D
	if d == nil {
		return
	}
	clear(d.Bits())
	d.SetUint64(0)
}

// readNames reads the names file; a missing file is an empty map. Call with k.mu held.
func (k *Keystore) readNames() (map[string]chain.Address, error) {
	path := filepath.Join(k.dir, NamesFile)
	data, err := readFileLimited(path, maxKeyFileBytes)
	if errors.Is(err, os.ErrNotExist) {
		return make(map[string]chain.Address), nil
	}
	if err != nil {
		return nil, fmt.Errorf("wallet: %w", err)
	}
	var raw map[string]string
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("wallet: %s: %w", path, err)
	}
	names := make(map[string]chain.Address, len(raw))
	for n, s := range raw {
		a, err := ParseAddress(s)
		if err != nil {
			return nil, fmt.Errorf("wallet: %s: name %q: %w", path, n, err)
		}
		names[n] = a
	}
	return names, nil
}

// writeNames replaces the names file atomically (0600). Call with k.mu held.
func (k *Keystore) writeNames(names map[string]chain.Address) error {
	raw := make(map[string]string, len(names))
	for n, a := range names {
		raw[n] = a.Hex()
	}
	data, err := json.MarshalIndent(raw, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if err := os.MkdirAll(k.dir, 0o700); err != nil {
		return err
	}
	// fsutil's temporary name starts with a dot, which keeps go-ethereum's directory watcher
	// from reading it as a key file.
	return fsutil.WriteFileAtomic(filepath.Join(k.dir, NamesFile), data, 0o600)
}

// readFileLimited reads at most limit bytes of a file and fails if it is longer.
func readFileLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s exceeds %d bytes", path, limit)
	}
	return data, nil
}

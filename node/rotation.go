package node

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/internal/fsutil"
)

// Rotating a node's hot keys — the operator key its merchant desk signs with and the API
// token its merchant endpoints require — without a restart. A rotation is two files side by
// side: the current one (operator.key, api.token) and the next (operator.next.key,
// api.next.token). Rotate writes the next one; the running node holds both (hotkeys.go)
// from its next request on; retire renames the next one over the current one, which removes
// the old secret and leaves the home as init made it, with one key and one token. One
// rotation of each kind at a time: rotate refuses while a next file exists.
//
// For the operator key the chain has its say in between: the desk signs for a program with
// the newest key the program lists, so the program's owner moves the node to the new key by
// adding it (both then work) and cuts the old one off by removing it; retire refuses while
// any program still names the old key (OperatorKeys.CheckRetire).

// Errors of a rotation.
var (
	// ErrRotationPending is a rotate while the previous rotation is not retired yet.
	ErrRotationPending = errors.New("node: a rotation is already under way")
	// ErrNoRotation is a retire with no rotation under way.
	ErrNoRotation = errors.New("node: no rotation under way")
	// ErrOperatorKeyInUse is a retire of the old operator key while the chain still names it.
	ErrOperatorKeyInUse = errors.New("node: the chain still names the old operator key")
)

// OperatorKeys are the operator keys a home holds: Current, in operator.key, and, during a
// rotation, Next, in operator.next.key (the zero address when there is none).
type OperatorKeys struct {
	Current chain.Address
	Next    chain.Address
}

// Rotating says whether a rotation is under way (a next key exists).
func (k OperatorKeys) Rotating() bool { return k.Next != (chain.Address{}) }

// ReadOperatorKeys reads the addresses of home's operator keys, with LoadKey's checks. A
// missing operator.key (deleted to cut a leaked key off at once) reads as the zero address,
// so that rotate can make a new key and retire put it in place; a file that is there but does
// not load is an error (delete it first).
func ReadOperatorKeys(home string) (OperatorKeys, error) {
	var k OperatorKeys
	cur, err := LoadKey(filepath.Join(home, OperatorKeyFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return OperatorKeys{}, err
	default:
		k.Current = crypto.PubkeyToAddress(cur.PublicKey)
	}
	next, err := LoadKey(filepath.Join(home, OperatorNextKeyFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return OperatorKeys{}, err
	default:
		k.Next = crypto.PubkeyToAddress(next.PublicKey)
	}
	return k, nil
}

// RotateOperatorKey generates a new operator key and writes it to home's operator.next.key
// (0600, whole or not at all, never over an existing file). A node running from home signs
// with it, for each program, as soon as the program lists it. It refuses (ErrRotationPending)
// while a previous rotation is not retired.
func RotateOperatorKey(home string) (OperatorKeys, error) {
	k, err := ReadOperatorKeys(home)
	if err != nil {
		return k, err
	}
	path := filepath.Join(home, OperatorNextKeyFile)
	if k.Rotating() {
		return k, fmt.Errorf("%w: %s holds the new operator key %s; finish with loyald operator retire first", ErrRotationPending, path, k.Next)
	}
	key, err := crypto.GenerateKey()
	if err != nil {
		return k, err
	}
	if err := fsutil.WriteFileAtomicExclusive(path, encodeKey(key), 0o600); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return k, fmt.Errorf("%w: %s appeared meanwhile", ErrRotationPending, path)
		}
		return k, fmt.Errorf("node: rotate the operator key: %w", err)
	}
	k.Next = crypto.PubkeyToAddress(key.PublicKey)
	return k, nil
}

// RetireOperatorKey ends a rotation: operator.next.key replaces operator.key, so the old key
// is gone and a node running from home stops holding it at its next request. want is what
// the caller checked (with CheckRetire, unless it chose not to); if home holds other keys
// now, it refuses. It refuses ErrNoRotation when no rotation is under way.
func RetireOperatorKey(home string, want OperatorKeys) error {
	k, err := ReadOperatorKeys(home)
	if err != nil {
		return err
	}
	if !k.Rotating() {
		return fmt.Errorf("%w: %s does not exist", ErrNoRotation, filepath.Join(home, OperatorNextKeyFile))
	}
	if k != want {
		return fmt.Errorf("node: the operator keys changed while retiring: %s now holds %s and %s, not %s and %s",
			home, k.Current, k.Next, want.Current, want.Next)
	}
	if err := fsutil.Replace(filepath.Join(home, OperatorNextKeyFile), filepath.Join(home, OperatorKeyFile)); err != nil {
		return fmt.Errorf("node: retire the operator key: %w", err)
	}
	return nil
}

// ProgramRotation is what one program's owner sends during a rotation of the node's operator
// key: the operators to set while both keys work (Handover), then once the old key is cut off
// (Final). Each is the whole list an update_program with set_operators puts in place.
type ProgramRotation struct {
	Program string
	Owner   chain.Address
	// Handover is the new key followed by the program's operators as they are.
	Handover []chain.Address
	// Final is Handover without the old key.
	Final []chain.Address
	// NextListed is true when the program lists the new key already: the handover is done.
	NextListed bool
	// OwnedByCurrent is true when the old operator key owns the program: removing it from
	// the operators does not cut it off, the program must be handed to its real owner.
	OwnedByCurrent bool
}

// Plan lists, in the order of programs, what the owners of the programs that name the
// current key (as an operator or as the owner) send to move the node to the next key. A
// program that names the next key only is done and not listed. Without a rotation under
// way, it lists nothing.
func (k OperatorKeys) Plan(programs []chain.Program) []ProgramRotation {
	if !k.Rotating() {
		return nil
	}
	var out []ProgramRotation
	for i := range programs {
		p := &programs[i]
		if !p.IsOperator(k.Current) {
			continue
		}
		handover := p.Operators
		listed := slices.Contains(handover, k.Next)
		if !listed {
			handover = append([]chain.Address{k.Next}, handover...)
		}
		out = append(out, ProgramRotation{
			Program: p.Symbol, Owner: p.Owner, NextListed: listed,
			Handover:       slices.Clone(handover),
			Final:          slices.DeleteFunc(slices.Clone(handover), func(a chain.Address) bool { return a == k.Current }),
			OwnedByCurrent: p.Owner == k.Current,
		})
	}
	return out
}

// CheckRetire refuses (ErrOperatorKeyInUse) to retire the current key while any of programs
// (the committed state's) names it as an operator or as its owner: the key could still sign
// for it, so whoever took it could too, and this node would lose a program it may still
// serve with no other key. It also refuses with no rotation under way.
func (k OperatorKeys) CheckRetire(programs []chain.Program) error {
	if !k.Rotating() {
		return fmt.Errorf("%w: no new operator key to replace %s", ErrNoRotation, k.Current)
	}
	var listing, owned []string
	for i := range programs {
		p := &programs[i]
		switch {
		case p.Owner == k.Current:
			owned = append(owned, p.Symbol)
		case p.IsOperator(k.Current):
			listing = append(listing, p.Symbol)
		}
	}
	if len(listing) == 0 && len(owned) == 0 {
		return nil
	}
	var why []string
	if len(listing) > 0 {
		why = append(why, fmt.Sprintf("%s still list %s as an operator", strings.Join(listing, ", "), k.Current))
	}
	if len(owned) > 0 {
		why = append(why, fmt.Sprintf("%s %s owned by %s", strings.Join(owned, ", "), isOrAre(len(owned)), k.Current))
	}
	return fmt.Errorf("%w: %s", ErrOperatorKeyInUse, strings.Join(why, "; "))
}

func isOrAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// RotateToken generates a new API token and writes it to home's api.next.token (0600, whole
// or not at all, never over an existing file), returning it. A node running from home
// accepts it, beside the current one if that loads, from its next request on. It does not
// need api.token to load, so that it also makes the new token after api.token was deleted to
// revoke it, or found readable by others: RetireToken then puts the new one in its place. It
// refuses (ErrRotationPending) while a previous rotation is not retired, and a directory that
// is not a node's home (no config file).
func RotateToken(home string) (string, error) {
	if _, err := os.Stat(filepath.Join(home, ConfigFile)); err != nil {
		return "", fmt.Errorf("node: rotate the API token: %s is not a node's home: %w", home, err)
	}
	path := filepath.Join(home, TokenNextFile)
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(raw)
	if err := fsutil.WriteFileAtomicExclusive(path, []byte(tok+"\n"), 0o600); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("%w: %s holds a new token already; finish with loyald token retire first", ErrRotationPending, path)
		}
		return "", fmt.Errorf("node: rotate the API token: %w", err)
	}
	return tok, nil
}

// RetireToken ends a token rotation: api.next.token replaces api.token, so a node running
// from home answers the old token 401 from its next request on. The new token must pass
// LoadToken's checks. It refuses ErrNoRotation when no rotation is under way.
func RetireToken(home string) error {
	next := filepath.Join(home, TokenNextFile)
	if _, err := LoadToken(next); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s does not exist", ErrNoRotation, next)
	} else if err != nil {
		return err
	}
	if err := fsutil.Replace(next, filepath.Join(home, TokenFile)); err != nil {
		return fmt.Errorf("node: retire the API token: %w", err)
	}
	return nil
}

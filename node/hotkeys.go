package node

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/loyal-ledger/loyal/chain"
)

// The running node's hot keys: the operator keys the merchant desk signs with and the API
// tokens the merchant endpoints accept, each read again from the home when its files
// change, so that a rotation (rotation.go) takes effect with no restart.
//
// The files are checked when they are used — a stat of the current and the next file on each
// merchant request, each token check and each status — rather than by a watcher goroutine.
// Two stats cost microseconds beside the signature and the ledger reads of a merchant
// request. Checked at the moment of use, the node never signs with, nor accepts, a secret
// whose file is gone or no longer passes the checks of start (a watcher's interval or its
// event delay would leave that window open), a rotation takes effect at the very next
// request, as the commands say, and there is no goroutine to own and stop. The price: the log
// line saying what the node now holds comes with the first request after the change, not
// with the change itself.
//
// The hot keys fail closed: a secret is held only while its file is there and loads. Deleting
// api.token, or leaving it readable by others or garbled, revokes it at the next request, and
// with no valid token (current or next) the merchant endpoints answer every request 401;
// likewise the desk signs only with operator keys whose files load, and with none it refuses
// merchant requests (ErrNoOperatorKey). At start a file that does not load is refused instead
// (Open fails), as a home with a bad key is not one to start from.

// secretPair is one of a home's secrets as it rotates: the current file and, during a
// rotation, the next one. held re-reads both whenever either has changed on disk (another
// file, size, modification time or mode), and again if they changed while it read them, so
// that what it holds is what the files held at one moment. It holds the secret of each file
// that is there and loads, and no other: a file that is gone or fails the checks (a file
// others may read, garbage) stops its secret at once, and the failure is logged once, at
// error level, saying why. Safe for concurrent use.
type secretPair[T comparable] struct {
	current, next string                       // the files' paths
	parse         func(path string) (T, error) // LoadKey or LoadToken with its checks
	describe      func(held []T) slog.Attr     // what the log says is held
	none          string                       // what the log says when nothing is held
	log           *slog.Logger

	mu struct {
		sync.Mutex
		seen [2]os.FileInfo // the current and next file when last loaded; nil: absent
		held []T            // newest first: next, then current; never nil
	}
}

// newSecretPair loads the current file (which must exist) and the next one (if any), refusing
// either if it does not load.
func newSecretPair[T comparable](current, next string, parse func(string) (T, error), describe func([]T) slog.Attr, none string, log *slog.Logger) (*secretPair[T], error) {
	s := &secretPair[T]{current: current, next: next, parse: parse, describe: describe, none: none, log: log}
	s.mu.seen = s.stat()
	held, errs := s.load()
	if len(errs) > 0 {
		return nil, errs[0]
	}
	s.mu.held = held
	return s, nil
}

// held is the secrets in force, newest first, re-read if their files changed; empty when no
// file loads. The slice is shared: callers must not modify it.
func (s *secretPair[T]) held() []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := s.stat()
	if sameFiles(seen, s.mu.seen) {
		return s.mu.held
	}
	held, errs := s.load()
	for range 3 { // the files changed while they were read: read them again
		after := s.stat()
		if sameFiles(after, seen) {
			break
		}
		seen = after
		held, errs = s.load()
	}
	// seen is what the files were before the last load, so a change that load missed is
	// seen at the next call; a failure is reported once, not on every request.
	s.mu.seen = seen
	s.mu.held = held
	switch {
	case len(errs) > 0 && len(held) == 0:
		s.log.Error("hot keys: "+s.none, "err", joinErrs(errs), s.describe(held))
	case len(errs) > 0:
		s.log.Error("hot keys: a file does not load: its secret is not held", "err", joinErrs(errs), s.describe(held))
	default:
		s.log.Info("hot keys: reloaded", s.describe(held))
	}
	return held
}

// joinErrs is errs' messages on one line, for the log.
func joinErrs(errs []error) string {
	msgs := make([]string, len(errs))
	for i, err := range errs {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (s *secretPair[T]) stat() [2]os.FileInfo {
	var seen [2]os.FileInfo
	for i, p := range []string{s.current, s.next} {
		if fi, err := os.Stat(p); err == nil {
			seen[i] = fi
		}
	}
	return seen
}

// load reads the next file, if it exists, then the current one, and returns the secrets of
// those that load, newest first, one copy of a secret both files hold, with why the others do
// not (a next file that does not exist is no failure: no rotation is under way). The order
// matters while a retire renames the next file over the current one: read the other way
// round, a load could find the old current file and then no next one, and hold only the
// secret just retired.
func (s *secretPair[T]) load() ([]T, []error) {
	held := []T{}
	var errs []error
	next, err := s.parse(s.next)
	switch {
	case err == nil:
		held = append(held, next)
	case !errors.Is(err, fs.ErrNotExist):
		errs = append(errs, err)
	}
	cur, err := s.parse(s.current)
	switch {
	case err != nil:
		errs = append(errs, err)
	case len(held) == 0 || held[0] != cur:
		held = append(held, cur)
	}
	return held, errs
}

func sameFiles(a, b [2]os.FileInfo) bool { return sameFile(a[0], b[0]) && sameFile(a[1], b[1]) }

// sameFile says whether a and b (nil: no file) describe the same file with the same content
// as far as a stat tells: a rotation creates or renames a file, an edit in place changes its
// size or modification time, a chmod its mode.
func sameFile(a, b os.FileInfo) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime()) && a.Mode() == b.Mode()
}

// operatorKey is an operator key the node holds.
type operatorKey struct {
	key  *ecdsa.PrivateKey
	addr chain.Address
}

// loadOperatorKey is LoadKey with the key's address.
func loadOperatorKey(path string) (operatorKey, error) {
	k, err := LoadKey(path)
	if err != nil {
		return operatorKey{}, err
	}
	return operatorKey{key: k, addr: crypto.PubkeyToAddress(k.PublicKey)}, nil
}

func operatorAddrs(keys []operatorKey) []chain.Address {
	out := make([]chain.Address, len(keys))
	for i, k := range keys {
		out[i] = k.addr
	}
	return out
}

// openHotKeys loads home's operator keys and API tokens, current and next.
func openHotKeys(home string, log *slog.Logger) (*secretPair[operatorKey], *secretPair[string], error) {
	ops, err := newSecretPair(filepath.Join(home, OperatorKeyFile), filepath.Join(home, OperatorNextKeyFile), loadOperatorKey,
		func(held []operatorKey) slog.Attr { return slog.Any("operators", operatorAddrs(held)) },
		"no valid operator key: the merchant desk refuses every request (503 "+ErrNoOperatorKey.Code+")", log)
	if err != nil {
		return nil, nil, err
	}
	toks, err := newSecretPair(filepath.Join(home, TokenFile), filepath.Join(home, TokenNextFile), LoadToken,
		func(held []string) slog.Attr { return slog.Int("api_tokens", len(held)) },
		"no valid API token: the merchant endpoints answer every request 401", log)
	if err != nil {
		return nil, nil, err
	}
	return ops, toks, nil
}

// pickOperator is the newest of held (newest first) that may earn and reverse in p: an
// operator of p or its owner. With no key held it refuses ErrNoOperatorKey.
func pickOperator(p *chain.Program, held []operatorKey) (operatorKey, error) {
	if len(held) == 0 {
		return operatorKey{}, ErrNoOperatorKey
	}
	for _, k := range held {
		if p.IsOperator(k.addr) {
			return k, nil
		}
	}
	return operatorKey{}, fmt.Errorf("%w: no operator key this node holds (%s) is an operator of %s (add it with `loyal program update --symbol %s --operator ADDRESS`, keeping the program's other operators)",
		chain.ErrNotOperator, joinAddrs(operatorAddrs(held)), p.Symbol, p.Symbol)
}

func joinAddrs(as []chain.Address) string {
	s := ""
	for i, a := range as {
		if i > 0 {
			s += ", "
		}
		s += a.Hex()
	}
	return s
}

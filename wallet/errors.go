package wallet

import (
	"errors"

	"github.com/ethereum/go-ethereum/accounts/keystore"
)

// Errors of the wallet. Compare with errors.Is; the returned errors wrap these with detail.
var (
	// ErrUnknownKey is a name or address the keystore holds no key for.
	ErrUnknownKey = errors.New("wallet: unknown key")
	// ErrDuplicateName is a key name that is already taken.
	ErrDuplicateName = errors.New("wallet: a key with this name already exists")
	// ErrDuplicateKey is an import of a key the keystore already holds.
	ErrDuplicateKey = errors.New("wallet: this key is already in the keystore")
	// ErrWrongPassphrase is a passphrase that does not decrypt the key file. It wraps
	// keystore.ErrDecrypt, so errors.Is(err, keystore.ErrDecrypt) holds too.
	ErrWrongPassphrase error = &wrapped{msg: "wallet: wrong passphrase", err: keystore.ErrDecrypt}
	// ErrBadName is a key name outside the allowed form (see ValidName).
	ErrBadName = errors.New("wallet: invalid key name")
	// ErrBadAddress is a string that is not a 0x-prefixed 20-byte hex address, or a
	// mixed-case address whose EIP-55 checksum does not match.
	ErrBadAddress = errors.New("wallet: invalid address")
	// ErrBadAmount is a string that is not a whole, non-negative uint64 number of points.
	ErrBadAmount = errors.New("wallet: invalid amount")
	// ErrNoPassphrase means no passphrase source is available (no file, no environment
	// variable, and stdin is not a terminal).
	ErrNoPassphrase = errors.New("wallet: no passphrase given")
	// ErrKeyNotFile is a private key given where the path of a file holding it belongs: a key
	// on a command line ends up in shell histories and process lists.
	ErrKeyNotFile = errors.New("wallet: a private key was given instead of a key file")
	// ErrResponseTooLarge is a node answer larger than MaxResponseBytes.
	ErrResponseTooLarge = errors.New("wallet: response too large")
	// ErrBadAnswer is a node answer that does not fit the request: a block range that does
	// not start where asked, skips or repeats a height, or goes past its end.
	ErrBadAnswer = errors.New("wallet: the node's answer does not fit the request")
)

// wrapped is a sentinel with its own message that still matches the error it refines.
type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }

package mempool_test

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node/internal/mempool"
)

// The tests sign real transactions with real secp256k1 keys: the pool recovers every sender.

const testChainID uint64 = 4242

var (
	genesisHash = chain.Hash{0x6c, 0x6f, 0x79, 0x61, 0x6c}
	signer      = chain.NewSigner(testChainID, genesisHash)
	recipient   = chain.Address{0xaa}
)

// wallet is a key and its address.
type wallet struct {
	key  *ecdsa.PrivateKey
	addr chain.Address
}

// newWallet returns the deterministic wallet number i (i >= 0).
func newWallet(t testing.TB, i int) wallet {
	t.Helper()
	var b [32]byte
	b[0] = 0x11 // keeps the scalar well inside [1, n-1]
	b[30], b[31] = byte(i>>8), byte(i)
	key, err := crypto.ToECDSA(b[:])
	if err != nil {
		t.Fatal(err)
	}
	return wallet{key: key, addr: crypto.PubkeyToAddress(key.PublicKey)}
}

// txOpts vary a transfer; the zero value is a plain transfer of 1 ACME with no expiry.
type txOpts struct {
	validUntil uint64
	amount     uint64 // 0 = 1
	memo       string
	chainID    uint64 // 0 = testChainID
}

// tx is a signed transfer of 1 ACME with this nonce.
func (w wallet) tx(t testing.TB, nonce uint64) *chain.Tx {
	t.Helper()
	return w.txWith(t, nonce, txOpts{})
}

func (w wallet) txWith(t testing.TB, nonce uint64, o txOpts) *chain.Tx {
	t.Helper()
	if o.amount == 0 {
		o.amount = 1
	}
	id, s := testChainID, signer
	if o.chainID != 0 && o.chainID != testChainID {
		id, s = o.chainID, chain.NewSigner(o.chainID, genesisHash)
	}
	tx := chain.NewTx(id, nonce, o.validUntil, &chain.Transfer{Program: "ACME", To: recipient, Amount: o.amount, Memo: o.memo})
	if err := s.Sign(tx, w.key); err != nil {
		t.Fatal(err)
	}
	return tx
}

// nonces is a committed state's next nonces.
type nonces map[chain.Address]uint64

func (n nonces) next(a chain.Address) (uint64, error) { return n[a], nil }

// zeroNonces is a committed state where nobody has sent anything.
func zeroNonces(chain.Address) (uint64, error) { return 0, nil }

var errStore = errors.New("store unavailable")

func failingNonces(chain.Address) (uint64, error) { return 0, errStore }

func newPool(cfg mempool.Config) *mempool.Mempool {
	return mempool.New(cfg, signer, testChainID, chain.DefaultParams())
}

// mustAdd adds txs that must be admitted.
func mustAdd(t testing.TB, m *mempool.Mempool, next mempool.NonceFunc, txs ...*chain.Tx) {
	t.Helper()
	for _, tx := range txs {
		if _, err := m.Add(tx, next, 0); err != nil {
			t.Fatalf("Add(nonce %d): %v", tx.Nonce, err)
		}
	}
}

// wantSize checks the pool holds exactly txs.
func wantSize(t testing.TB, m *mempool.Mempool, txs ...*chain.Tx) {
	t.Helper()
	bytes := 0
	for _, tx := range txs {
		bytes += tx.Size()
		if _, _, ok := m.Get(tx.Hash()); !ok {
			t.Errorf("tx of nonce %d not held", tx.Nonce)
		}
	}
	if n, b := m.Size(); n != len(txs) || b != bytes {
		t.Errorf("Size() = %d txs, %d bytes; want %d, %d", n, b, len(txs), bytes)
	}
}

func hashes(txs ...*chain.Tx) []chain.Hash {
	hs := make([]chain.Hash, len(txs))
	for i, tx := range txs {
		hs[i] = tx.Hash()
	}
	return hs
}

// corruptSig returns a copy of tx, decoded from a canonical encoding, with one byte of the
// signature's r flipped so that no public key is recovered: the stateless shape checks pass
// and only recovery fails.
func corruptSig(t testing.TB, tx *chain.Tx) *chain.Tx {
	t.Helper()
	for i := 31; i >= 0; i-- {
		for _, bit := range []byte{0x01, 0x02, 0x04, 0x08} {
			c, err := chain.DecodeTx(tx.Encode())
			if err != nil {
				t.Fatal(err)
			}
			c.Sig[i] ^= bit // before c is hashed again: re-encode and decode for a clean cache
			bad, err := chain.DecodeTx(c.Encode())
			if err != nil {
				continue // r out of range: caught by the shape check, not by recovery
			}
			if _, err := signer.Sender(bad); err != nil {
				return bad
			}
		}
	}
	t.Fatal("no byte flip of r makes recovery fail")
	return nil
}

// checkReady checks what Ready promises whatever the pool holds: a sender per transaction,
// no transaction twice, and each sender's transactions a gap-free run of nonces from its
// next committed nonce.
func checkReady(txs []*chain.Tx, senders []chain.Address, next mempool.NonceFunc) error {
	if len(txs) != len(senders) {
		return fmt.Errorf("Ready: %d txs, %d senders", len(txs), len(senders))
	}
	seen := make(map[chain.Hash]bool, len(txs))
	expect := make(map[chain.Address]uint64)
	for i, tx := range txs {
		if seen[tx.Hash()] {
			return fmt.Errorf("Ready: tx %d returned twice", i)
		}
		seen[tx.Hash()] = true
		a := senders[i]
		want, ok := expect[a]
		if !ok {
			n, err := next(a)
			if err != nil {
				return err
			}
			want = n
		}
		if tx.Nonce != want {
			return fmt.Errorf("Ready: tx %d of %s has nonce %d, expected %d", i, a, tx.Nonce, want)
		}
		expect[a] = want + 1
	}
	return nil
}

package mempool_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node/internal/mempool"
)

// TestAddRules checks each admission rule of Add: the code of the rejection, that it wraps
// its sentinel, the sender returned, and that a rejection leaves the pool as it was.
func TestAddRules(t *testing.T) {
	alice, bob := newWallet(t, 1), newWallet(t, 2)
	size := alice.tx(t, 0).Size()
	small := chain.DefaultParams()
	small.MaxTxBytes = size - 1

	tests := []struct {
		rule     string
		cfg      mempool.Config
		params   *chain.Params     // nil = chain.DefaultParams()
		next     mempool.NonceFunc // nil = nonces{alice: 5}
		held     []*chain.Tx       // added first
		tx       *chain.Tx
		headTime uint64
		want     error // nil = admitted
		sender   bool  // the sender is returned with the error
	}{
		{rule: "a fresh tx at the next nonce is admitted", tx: alice.tx(t, 5)},
		{rule: "a later nonce is admitted (gaps allowed)", tx: alice.tx(t, 9)},
		{rule: "unknown account starts at nonce 0", tx: bob.tx(t, 0)},
		{rule: "valid_until equal to head time is admitted", tx: alice.txWith(t, 5, txOpts{validUntil: 1000}), headTime: 1000},
		{rule: "nonce exactly MaxFutureNonces ahead is admitted", tx: alice.tx(t, 5+64)},
		{rule: "custom MaxFutureNonces bound is admitted", cfg: mempool.Config{MaxFutureNonces: 2}, tx: alice.tx(t, 7)},
		{rule: "the last tx that fits MaxTxs is admitted", cfg: mempool.Config{MaxTxs: 3},
			held: []*chain.Tx{alice.tx(t, 5), bob.tx(t, 0)}, tx: alice.tx(t, 6)},
		{rule: "the last tx that fits MaxBytes exactly is admitted", cfg: mempool.Config{MaxBytes: 3 * size},
			held: []*chain.Tx{alice.tx(t, 5), bob.tx(t, 0)}, tx: alice.tx(t, 6)},

		{rule: "duplicate_tx: the same tx again", held: []*chain.Tx{alice.tx(t, 5)}, want: mempool.ErrDuplicateTx, sender: true},
		{rule: "nonce_taken: another tx with the sender's nonce", held: []*chain.Tx{alice.tx(t, 6)},
			tx: alice.txWith(t, 6, txOpts{amount: 2}), want: mempool.ErrNonceTaken, sender: true},
		{rule: "nonce_too_low: below the committed next nonce", tx: alice.tx(t, 4), want: chain.ErrNonceTooLow, sender: true},
		{rule: "nonce_too_high: more than MaxFutureNonces ahead", tx: alice.tx(t, 5+65), want: chain.ErrNonceTooHigh, sender: true},
		{rule: "nonce_too_high: custom MaxFutureNonces", cfg: mempool.Config{MaxFutureNonces: 2}, tx: alice.tx(t, 8),
			want: chain.ErrNonceTooHigh, sender: true},
		{rule: "mempool_full: by count", cfg: mempool.Config{MaxTxs: 2}, held: []*chain.Tx{alice.tx(t, 5), bob.tx(t, 0)},
			tx: alice.tx(t, 6), want: mempool.ErrFull, sender: true},
		{rule: "mempool_full: by bytes", cfg: mempool.Config{MaxBytes: 3*size - 1}, held: []*chain.Tx{alice.tx(t, 5), bob.tx(t, 0)},
			tx: alice.tx(t, 6), want: mempool.ErrFull, sender: true},
		{rule: "wrong_chain_id", tx: alice.txWith(t, 5, txOpts{chainID: 99}), want: chain.ErrWrongChainID},
		{rule: "tx_expired: valid_until before head time", tx: alice.txWith(t, 5, txOpts{validUntil: 999}), headTime: 1000,
			want: chain.ErrExpiredTx},
		{rule: "tx_too_large: over the network's MaxTxBytes", params: &small, tx: alice.tx(t, 5), want: chain.ErrTxTooLarge},
		{rule: "bad_signature: recovers no key", tx: corruptSig(t, alice.tx(t, 5)), want: chain.ErrBadSignature},
		{rule: "bad_signature: malformed v (stateless shape check)", tx: withV(alice.tx(t, 5), 29), want: chain.ErrBadSignature},
		{rule: "stateless checks: a transfer of nothing", tx: unsigned(5, 0), want: chain.ErrAmountZero},
		{rule: "the nonce lookup fails", next: failingNonces, tx: alice.tx(t, 5), want: errStore, sender: true},
	}
	for _, tc := range tests {
		t.Run(tc.rule, func(t *testing.T) {
			params := chain.DefaultParams()
			if tc.params != nil {
				params = *tc.params
			}
			next := tc.next
			if next == nil {
				next = nonces{alice.addr: 5}.next
			}
			m := mempool.New(tc.cfg, signer, testChainID, params)
			for _, tx := range tc.held {
				if _, err := m.Add(tx, nonces{alice.addr: 5}.next, 0); err != nil {
					t.Fatalf("setup Add: %v", err)
				}
			}
			tx := tc.tx
			if tx == nil {
				tx = tc.held[0]
			}
			sender, err := m.Add(tx, next, tc.headTime)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Add: %v", err)
				}
				if want, _ := signer.Sender(tx); sender != want {
					t.Errorf("sender %s, want %s", sender, want)
				}
				got, from, ok := m.Get(tx.Hash())
				if !ok || got != tx || from != sender {
					t.Errorf("Get = %p, %s, %v; want the added tx", got, from, ok)
				}
				wantSize(t, m, append(tc.held, tx)...)
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Add: %v, want %v", err, tc.want)
			}
			var ce *chain.Error
			if errors.As(tc.want, &ce) && chain.Code(err) != ce.Code {
				t.Errorf("code %q, want %q", chain.Code(err), ce.Code)
			}
			if err.Error() == tc.want.Error() {
				t.Errorf("error %q adds no detail", err)
			}
			if wantSender := tc.sender; wantSender != (sender != chain.Address{}) {
				t.Errorf("sender %s returned with the error; want one: %v", sender, wantSender)
			}
			wantSize(t, m, tc.held...)
		})
	}
}

// withV returns a copy of tx with v set, which the stateless check rejects.
func withV(tx *chain.Tx, v byte) *chain.Tx {
	c := chain.NewTx(tx.ChainID, tx.Nonce, tx.ValidUntil, tx.Payload)
	c.Sig = tx.Sig
	c.Sig[64] = v
	return c
}

// unsigned is a transfer of amount with no signature.
func unsigned(nonce, amount uint64) *chain.Tx {
	return chain.NewTx(testChainID, nonce, 0, &chain.Transfer{Program: "ACME", To: recipient, Amount: amount})
}

// TestAddDuplicateCopy: the duplicate rule is by transaction id, so a decoded copy of a held
// transaction (another *Tx) is a duplicate too, and the held sender is returned.
func TestAddDuplicateCopy(t *testing.T) {
	alice := newWallet(t, 1)
	m := newPool(mempool.Config{})
	tx := alice.tx(t, 0)
	mustAdd(t, m, zeroNonces, tx)
	c, err := chain.DecodeTx(tx.Encode())
	if err != nil {
		t.Fatal(err)
	}
	sender, err := m.Add(c, zeroNonces, 0)
	if chain.Code(err) != "duplicate_tx" || sender != alice.addr {
		t.Fatalf("Add(copy) = %s, %v; want alice, duplicate_tx", sender, err)
	}
	if !strings.Contains(err.Error(), tx.Hash().Hex()) {
		t.Errorf("error %q does not name the tx", err)
	}
	wantSize(t, m, tx)
}

// TestAddFullFreesUp: a full pool admits again once a transaction leaves.
func TestAddFullFreesUp(t *testing.T) {
	alice := newWallet(t, 1)
	m := newPool(mempool.Config{MaxTxs: 2})
	t0, t1, t2 := alice.tx(t, 0), alice.tx(t, 1), alice.tx(t, 2)
	mustAdd(t, m, zeroNonces, t0, t1)
	if _, err := m.Add(t2, zeroNonces, 0); !errors.Is(err, mempool.ErrFull) {
		t.Fatalf("Add to a full pool: %v", err)
	}
	if err := m.Update([]*chain.Tx{t0}, nonces{alice.addr: 1}.next, 0); err != nil {
		t.Fatal(err)
	}
	mustAdd(t, m, nonces{alice.addr: 1}.next, t2)
	wantSize(t, m, t1, t2)
}

// TestPendingNonce: the nonce after the gap-free run from the committed nonce.
func TestPendingNonce(t *testing.T) {
	alice, bob := newWallet(t, 1), newWallet(t, 2)
	m := newPool(mempool.Config{})
	next := nonces{alice.addr: 3}.next
	if got := m.PendingNonce(alice.addr, 3); got != 3 {
		t.Errorf("nothing pending: %d, want 3", got)
	}
	mustAdd(t, m, next, alice.tx(t, 3), alice.tx(t, 4), alice.tx(t, 6), bob.tx(t, 1))
	for _, tc := range []struct {
		who       chain.Address
		committed uint64
		want      uint64
	}{
		{alice.addr, 3, 5}, // 3, 4 pending; 6 after a gap
		{alice.addr, 6, 7},
		{alice.addr, 5, 5},
		{bob.addr, 0, 0}, // 1 after a gap
		{bob.addr, 1, 2},
	} {
		if got := m.PendingNonce(tc.who, tc.committed); got != tc.want {
			t.Errorf("PendingNonce(%s, %d) = %d, want %d", tc.who, tc.committed, got, tc.want)
		}
	}
}

// TestNewPanicsOnWrongSigner: a signer for another chain is a wiring mistake.
func TestNewPanicsOnWrongSigner(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New did not panic")
		}
	}()
	mempool.New(mempool.Config{}, chain.NewSigner(testChainID+1, genesisHash), testChainID, chain.DefaultParams())
}

package ledger

import (
	"errors"
	"fmt"

	"github.com/loyal-ledger/loyal/chain"
)

// CheckQueue tells whether tx from sender would apply in the next block, at block time t or
// later, among queue: the sender's transactions waiting, in nonce order — after those before
// it, and without leaving one after it unable to run that could run before (so nonces sent in
// descending order cannot spend the same points twice). It changes nothing; like CheckTx it
// is an early, clear answer, not a guarantee.
//
// It runs on a throwaway state over the committed one: first the queued transactions, then
// tx, each at the sender's next nonce in that state, whatever nonce it carries — a gap
// (a nonce no transaction has yet) is assumed to be filled by a transaction that changes
// nothing. A queued transaction that is already committed (a block landed meanwhile) is
// skipped; one that fails is skipped as well, since it is the one to refuse when its block is
// built, not tx. Only the sender's own queue counts: a transaction that needs another
// sender's pending one (points being transferred to it) is refused with the ledger's code,
// and can be sent again once that one committed.
//
// tx itself must carry a nonce at or past the sender's committed one (else
// chain.ErrNonceTooLow). Safe to call concurrently with block application.
func (l *Ledger) CheckQueue(queue []*chain.Tx, tx *chain.Tx, sender chain.Address, t uint64) error {
	// The state reads the account once; reading it first and handing the state that same
	// value keeps the nonces below consistent with the state's even if a block commits.
	head := l.Head()
	base := l.admit.reader(l, head)
	key := chain.AccountKey(sender)
	raw, err := base.Get(key)
	if err != nil {
		return err
	}
	acc := &chain.Account{}
	if raw != nil {
		if acc, err = chain.DecodeAccount(raw); err != nil {
			return fmt.Errorf("%w: account %s: %v", ErrCorrupt, sender, err)
		}
	}
	if tx.Nonce < acc.Nonce {
		return fmt.Errorf("%w: got %d, next is %d", chain.ErrNonceTooLow, tx.Nonce, acc.Nonce)
	}
	rules, height, time := l.RulesAt(head.Height+1), head.Height+1, max(t, head.Time+1)
	// run applies the queue in nonce order with tx among it (or without, if tx is nil) and
	// reports tx's error and which of the queued transactions after it fail.
	run := func(tx *chain.Tx) (txErr error, laterFails map[chain.Hash]error, err error) {
		st := chain.NewState(pinnedReader{base, string(key), raw}, rules, height, time)
		next := acc.Nonce
		apply := func(q *chain.Tx) error {
			_, err := st.ApplyTx(renonce(q, next), sender)
			if err == nil {
				next++
			}
			return err
		}
		done := tx == nil
		for _, q := range queue {
			if q.Nonce < acc.Nonce || (tx != nil && q.Nonce == tx.Nonce) {
				continue
			}
			if !done && q.Nonce > tx.Nonce {
				txErr, done = apply(tx), true
			}
			if qerr := apply(q); qerr != nil && (tx == nil || q.Nonce > tx.Nonce) {
				if laterFails == nil {
					laterFails = map[chain.Hash]error{}
				}
				laterFails[q.Hash()] = qerr
			}
			if st.Err() != nil {
				return nil, nil, st.Err()
			}
		}
		if !done {
			txErr = apply(tx)
		}
		return txErr, laterFails, st.Err()
	}
	txErr, withTx, err := run(tx)
	if err != nil || txErr != nil {
		return errors.Join(err, txErr)
	}
	// A transaction slipped in before the sender's later ones must leave them able to run:
	// otherwise sending nonces in descending order would admit a whole queue that spends the
	// same points many times over.
	if len(withTx) == 0 {
		return nil
	}
	_, without, err := run(nil)
	if err != nil {
		return err
	}
	for _, q := range queue {
		if qerr := withTx[q.Hash()]; qerr != nil && without[q.Hash()] == nil {
			return fmt.Errorf("%w (nonce %d would leave the sender's waiting transaction %s, nonce %d, unable to run)", qerr, tx.Nonce, q.Hash(), q.Nonce)
		}
	}
	return nil
}

// renonce returns tx at nonce n: the same payload, validity and signature bytes (so the same
// size), but not a transaction anyone signed. Only for a throwaway state: the state does not
// verify signatures, its caller does.
func renonce(tx *chain.Tx, n uint64) *chain.Tx {
	if tx.Nonce == n {
		return tx
	}
	c := chain.NewTx(tx.ChainID, n, tx.ValidUntil, tx.Payload)
	c.Sig = tx.Sig
	return c
}

// pinnedReader reads the committed state, but answers key with a value read before.
type pinnedReader struct {
	chain.StateReader
	key   string
	value []byte
}

func (r pinnedReader) Get(k []byte) ([]byte, error) {
	if string(k) == r.key {
		return r.value, nil
	}
	return r.StateReader.Get(k)
}

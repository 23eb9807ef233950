package chain

import "fmt"

// Parent is the block a new block must follow: its height, hash and time. For height 1 it is
// the genesis: height 0, the genesis hash, the genesis time.
type Parent struct {
	Height uint64
	Hash   Hash
	Time   uint64
}

// CheckNext runs the checks of blk as the block after parent that need no state: chain id,
// height, link to the parent, time after the parent's and within the protocol's bound, size
// limits, a proposer among the validators, the block's structure (tx root, last-commit hash),
// from Version3 on the header's commitment to the next height's validator set, and, above
// height 1, the certificate of the parent it carries, against the validators in force at the
// parent's height. Every rule comes from the chain's schedule at its own height. The ledger
// and the auditor's verifier both check blocks with it; execution and the state root are
// theirs.
func CheckNext(parent Parent, blk *Block, schedule *Schedule) error {
	h := &blk.Header
	rules := schedule.At(parent.Height + 1)
	p := rules.Params
	switch {
	case h.ChainID != rules.ChainID:
		return fmt.Errorf("%w: chain id %d", ErrBadBlock, h.ChainID)
	case h.Height != parent.Height+1:
		return fmt.Errorf("%w: height %d, expected %d", ErrBadBlock, h.Height, parent.Height+1)
	case h.PrevHash != parent.Hash:
		return fmt.Errorf("%w: previous hash %s, the parent is %s", ErrBadBlock, h.PrevHash, parent.Hash)
	case h.Time <= parent.Time:
		return fmt.Errorf("%w: time %d not after the previous block's %d", ErrBadBlock, h.Time, parent.Time)
	case h.Time > MaxBlockTime:
		return fmt.Errorf("%w: time %d past the last block time %d", ErrBadBlock, h.Time, MaxBlockTime)
	case len(blk.Txs) > p.MaxBlockTxs:
		return fmt.Errorf("%w: %d transactions exceed %d", ErrBadBlock, len(blk.Txs), p.MaxBlockTxs)
	case blk.Size() > p.MaxBlockBytes:
		return fmt.Errorf("%w: block of %d bytes exceeds %d", ErrBadBlock, blk.Size(), p.MaxBlockBytes)
	case rules.ValidatorIndex(h.Proposer) < 0:
		return fmt.Errorf("%w: proposer %s is not a validator", ErrBadBlock, h.Proposer)
	}
	if want := NextValidatorsHash(schedule, h.Height); h.NextValidators != want {
		return fmt.Errorf("%w: next validator set hash %s, the set at %d hashes to %s", ErrBadBlock, h.NextValidators, h.Height+1, want)
	}
	if err := blk.CheckStructure(); err != nil {
		return err
	}
	if h.Height > 1 {
		prev := schedule.At(parent.Height)
		if err := VerifyCommit(prev.ChainID, prev.Validators, parent.Height, parent.Hash, blk.LastCommit); err != nil {
			return fmt.Errorf("%w: certificate of block %d: %w", ErrBadBlock, parent.Height, err)
		}
	}
	return nil
}

// NextValidatorsHash is what the header of the block at height commits to: from Version3 on,
// ValidatorSetHash of the set in force at height+1 (known when the block is built: a change
// decided at height takes effect at height+ActivationDelay); zero before.
func NextValidatorsHash(schedule *Schedule, height uint64) Hash {
	if schedule.At(height).Version < Version3 {
		return Hash{}
	}
	return ValidatorSetHash(schedule.At(height + 1).Validators)
}

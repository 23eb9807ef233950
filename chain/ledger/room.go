package ledger

import "github.com/loyal-ledger/loyal/chain"

// BlockRoom is how many transactions, and how many bytes of them, the next block may carry
// when its LastCommit is lastCommit: the limits of the rules in force at the next height.
// Bytes count each transaction as it sits in the block's encoding (its size plus a 4-byte
// length prefix), and the rest of the block (header, certificate) is taken off exactly, so a
// proposer that fills the room builds a block of at most Params.MaxBlockBytes.
func (l *Ledger) BlockRoom(lastCommit *chain.Commit) (maxTxs, maxBytes int) {
	return blockRoom(l.RulesAt(l.Head().Height+1).Params, lastCommit)
}

func blockRoom(p chain.Params, lastCommit *chain.Commit) (maxTxs, maxBytes int) {
	return p.MaxBlockTxs, p.MaxBlockBytes - (&chain.Block{LastCommit: lastCommit}).Size()
}

// fitRoom cuts txs (and their senders) to the first ones that fit the room.
func fitRoom(p chain.Params, lastCommit *chain.Commit, txs []*chain.Tx, senders []chain.Address) ([]*chain.Tx, []chain.Address) {
	maxTxs, room := blockRoom(p, lastCommit)
	if len(txs) > maxTxs {
		txs, senders = txs[:maxTxs], senders[:maxTxs]
	}
	for i, tx := range txs {
		if room -= tx.Size() + 4; room < 0 {
			return txs[:i], senders[:i]
		}
	}
	return txs, senders
}

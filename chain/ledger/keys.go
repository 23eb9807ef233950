package ledger

import (
	"encoding/binary"

	"github.com/loyal-ledger/loyal/chain"
)

// Store layout. One prefix byte per table; heights are big-endian so blocks iterate in order.
const (
	pState   = 's' // chain state key → value (the authenticated map)
	pMeta    = 'm' // meta records
	pBlock   = 'b' // height → encoded block
	pHash    = 'H' // block hash → height
	pTx      = 't' // tx hash → height ‖ index
	pHistory = 'e' // address ‖ seq → history record
	pHistLen = 'n' // address → number of history records
	pSeen    = 'c' // height → the commit certificate this node saw for the block at height
)

var (
	metaHead    = []byte{pMeta, 'h'}
	metaGenesis = []byte{pMeta, 'g'}
)

func stateKey(k []byte) []byte { return append([]byte{pState}, k...) }

func heightKey(p byte, h uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{p}, h)
}

func hashKey(p byte, h chain.Hash) []byte { return append([]byte{p}, h[:]...) }

func historyKey(a chain.Address, seq uint64) []byte {
	return binary.BigEndian.AppendUint64(append([]byte{pHistory}, a[:]...), seq)
}

func historyLenKey(a chain.Address) []byte { return append([]byte{pHistLen}, a[:]...) }

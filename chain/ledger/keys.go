package ledger

import (
	"encoding/binary"

	"github.com/loyal-ledger/loyal/chain"
)

// Store layout. One prefix byte per table; heights are big-endian so blocks iterate in order.
const (
	pState    = 's' // chain state key → value (the authenticated map)
	pMeta     = 'm' // meta records
	pBlock    = 'b' // height → encoded block
	pHash     = 'H' // block hash → height
	pTx       = 't' // tx hash → height ‖ index
	pHistory  = 'e' // address ‖ height ‖ tx index ‖ entry index → history record
	pSeen     = 'c' // height → the commit certificate this node saw for the block at height
	pReversal = 'r' // program ‖ order ref ‖ height ‖ tx index → tx hash (reversals.go)
)

var (
	metaHead    = []byte{pMeta, 'h'}
	metaGenesis = []byte{pMeta, 'g'}
)

func stateKey(k []byte) []byte { return appendStateKey(nil, k) }

// appendStateKey appends the store key of chain state key k to b.
func appendStateKey(b, k []byte) []byte { return append(append(b, pState), k...) }

func heightKey(p byte, h uint64) []byte {
	return binary.BigEndian.AppendUint64([]byte{p}, h)
}

func hashKey(p byte, h chain.Hash) []byte { return appendHashKey(nil, p, h) }

func appendHashKey(b []byte, p byte, h chain.Hash) []byte { return append(append(b, p), h[:]...) }

// historyKey orders an account's history by position in the chain, so appending needs no
// counter read (a block of 10,000 transfers writes 20,000 records without reading any).
func historyKey(a chain.Address, pos HistoryCursor) []byte {
	return appendHistoryKey(make([]byte, 0, 1+20+8+4+4), a, pos)
}

// appendHistoryKey appends historyKey(a, pos) to k.
func appendHistoryKey(k []byte, a chain.Address, pos HistoryCursor) []byte {
	k = append(k, pHistory)
	k = append(k, a[:]...)
	k = binary.BigEndian.AppendUint64(k, pos.Height)
	k = binary.BigEndian.AppendUint32(k, pos.TxIndex)
	return binary.BigEndian.AppendUint32(k, pos.Entry)
}

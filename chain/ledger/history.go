package ledger

import (
	"encoding/binary"
	"fmt"

	"github.com/loyal-ledger/loyal/chain"
)

// HistoryRecord is one entry of an account's history with where it happened.
type HistoryRecord struct {
	Height  uint64      `json:"height,string"`
	Time    uint64      `json:"time,string"`
	TxHash  chain.Hash  `json:"tx_hash"`
	TxIndex uint32      `json:"tx_index"`
	Kind    chain.Kind  `json:"-"`
	Entry   chain.Entry `json:"entry"`
}

// appendTo appends the record's encoding to b: height ‖ time ‖ tx hash ‖ tx index ‖ kind ‖
// entry, binary, because a block of 10,000 transfers writes 20,000 of these.
func (r *HistoryRecord) appendTo(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, r.Height)
	b = binary.BigEndian.AppendUint64(b, r.Time)
	b = append(b, r.TxHash[:]...)
	b = binary.BigEndian.AppendUint32(b, r.TxIndex)
	b = append(b, byte(r.Kind))
	return r.Entry.AppendBinary(b)
}

func decodeHistoryRecord(b []byte) (HistoryRecord, error) {
	const fixed = 8 + 8 + 32 + 4 + 1
	if len(b) < fixed {
		return HistoryRecord{}, fmt.Errorf("record of %d bytes", len(b))
	}
	r := HistoryRecord{
		Height:  binary.BigEndian.Uint64(b),
		Time:    binary.BigEndian.Uint64(b[8:]),
		TxHash:  chain.Hash(b[16:48]),
		TxIndex: binary.BigEndian.Uint32(b[48:]),
		Kind:    chain.Kind(b[52]),
	}
	e, rest, err := chain.DecodeEntry(b[fixed:])
	if err != nil {
		return HistoryRecord{}, err
	}
	if len(rest) != 0 {
		return HistoryRecord{}, fmt.Errorf("%d trailing bytes", len(rest))
	}
	r.Entry = e
	return r, nil
}

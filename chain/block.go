package chain

import (
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/loyal-ledger/loyal/chain/merkle"
)

// Header is a block header. Its hash is the block hash; it commits to the previous block,
// the transactions (TxRoot), the state after the block (StateRoot) and, through
// LastCommitHash, to the certificate that finalized the previous block.
type Header struct {
	ChainID        uint64  `json:"chain_id,string"`
	Height         uint64  `json:"height,string"`
	Time           uint64  `json:"time,string"` // Unix seconds, UTC
	PrevHash       Hash    `json:"prev_hash"`
	TxRoot         Hash    `json:"tx_root"`
	StateRoot      Hash    `json:"state_root"`
	Proposer       Address `json:"proposer"`
	LastCommitHash Hash    `json:"last_commit_hash"`
	// NextValidators is ValidatorSetHash of the set that certifies the next block (Version3
	// on; zero before, and then the header encodes as it always has). A light client that
	// trusts the set of one height learns the next one from a certified header.
	NextValidators Hash `json:"next_validators,omitzero"`
}

const (
	headerSizeV1 = 2 + 8*3 + 32*3 + 20 + 32
	headerSize   = headerSizeV1 + 32 // the most a header encodes to
	// headerVersionNextValidators is the encoding version of a header that commits to the
	// next validator set; a header without one keeps version 1's encoding, and its hash.
	headerVersionNextValidators = 2
)

// Encode is the canonical encoding of the header: 'H', its version, then fixed-width
// fields. Version 1 ends with the last-commit hash; version 2 (Version3's headers) appends
// the next validator set's hash.
func (h *Header) Encode() []byte {
	e := encoder{Buf: make([]byte, 0, headerSize)}
	e.U8(tagHeader)
	if h.NextValidators == (Hash{}) {
		e.U8(encodingVersion)
	} else {
		e.U8(headerVersionNextValidators)
	}
	e.U64(h.ChainID)
	e.U64(h.Height)
	e.U64(h.Time)
	e.Hash(h.PrevHash)
	e.Hash(h.TxRoot)
	e.Hash(h.StateRoot)
	e.Address(h.Proposer)
	e.Hash(h.LastCommitHash)
	if h.NextValidators != (Hash{}) {
		e.Hash(h.NextValidators)
	}
	return e.Buf
}

// Hash is the block hash: keccak256 of the header encoding.
func (h *Header) Hash() Hash { return crypto.Keccak256Hash(h.Encode()) }

// DecodeHeader strictly decodes a header.
func DecodeHeader(b []byte) (*Header, error) {
	d := newDecoder(b)
	h := decodeHeader(&d)
	if err := d.Finish(); err != nil {
		return nil, err
	}
	return h, nil
}

func decodeHeader(d *decoder) *Header {
	if tag := d.U8(); d.Err == nil && tag != tagHeader {
		d.Fail("not a header (tag %#x)", tag)
	}
	v := d.U8()
	if d.Err == nil && v != encodingVersion && v != headerVersionNextValidators {
		d.Err = fmt.Errorf("%w: header version %d", ErrUnknownVersion, v)
	}
	h := &Header{
		ChainID: d.U64(), Height: d.U64(), Time: d.U64(), PrevHash: d.Hash(), TxRoot: d.Hash(),
		StateRoot: d.Hash(), Proposer: d.Address(), LastCommitHash: d.Hash(),
	}
	if v == headerVersionNextValidators {
		h.NextValidators = d.Hash()
		if d.Err == nil && h.NextValidators == (Hash{}) {
			// Its encoding would be version 1's: one header, one encoding.
			d.Fail("version 2 header with a zero next validator set hash")
		}
	}
	return h
}

// Block is a header, its transactions, and the commit certificate of the previous block
// (nil at height 1). That carried copy is the canonical certificate of the previous block.
type Block struct {
	Header     Header  `json:"header"`
	Txs        []*Tx   `json:"txs"`
	LastCommit *Commit `json:"last_commit"`

	hash   atomic.Pointer[Hash]
	txRoot atomic.Pointer[txRootMemo]
}

// txRootMemo is the tx root of one list of transactions.
type txRootMemo struct {
	txs  []*Tx // a copy of the list it was computed over
	root Hash
}

// Hash is the block hash (the header's), cached.
func (b *Block) Hash() Hash {
	if h := b.hash.Load(); h != nil {
		return *h
	}
	h := b.Header.Hash()
	b.hash.Store(&h)
	return h
}

// TxRoot computes the Merkle root over the transaction ids.
func TxRoot(txs []*Tx) Hash {
	return Hash(merkle.Root(txLeaves(txs)))
}

// ComputeTxRoot is the Merkle root over b.Txs, what Header.TxRoot must be. It is remembered
// for the same list of transactions, so checking the same block again (a validator decodes a
// block, verifies it, then commits it; a proposer builds one, then commits it) costs a
// comparison of the list instead of 20,000 Keccak hashes. Comparing the transactions by
// pointer is enough: a Tx's hash, the only thing the root depends on, is computed once and
// cached, so the same *Tx always gives the same leaf.
func (b *Block) ComputeTxRoot() Hash {
	if m := b.txRoot.Load(); m != nil && slices.Equal(m.txs, b.Txs) {
		return m.root
	}
	root := TxRoot(b.Txs)
	b.txRoot.Store(&txRootMemo{txs: slices.Clone(b.Txs), root: root})
	return root
}

func txLeaves(txs []*Tx) [][32]byte {
	leaves := make([][32]byte, len(txs))
	for i, tx := range txs {
		leaves[i] = tx.Hash()
	}
	return leaves
}

// TxProof is an inclusion proof of a transaction in a block.
type TxProof struct {
	TxHash Hash   `json:"tx_hash"`
	Index  uint64 `json:"index,string"`
	Total  uint64 `json:"total,string"`
	Path   []Hash `json:"path"`
}

// ProveTx returns the inclusion proof of the i-th transaction of txs.
func ProveTx(txs []*Tx, i int) (*TxProof, error) {
	path, err := merkle.Prove(txLeaves(txs), i)
	if err != nil {
		return nil, err
	}
	p := &TxProof{TxHash: txs[i].Hash(), Index: uint64(i), Total: uint64(len(txs)), Path: make([]Hash, len(path))}
	for j, h := range path {
		p.Path[j] = Hash(h)
	}
	return p, nil
}

// Verify checks the proof against a header's tx root: the header is all a verifier needs.
func (p *TxProof) Verify(h *Header) error {
	path := make([][32]byte, len(p.Path))
	for i, x := range p.Path {
		path[i] = x
	}
	return merkle.Verify(h.TxRoot, p.TxHash, p.Index, p.Total, path)
}

// blockOverhead is the encoding of a block without transactions and certificate.
const blockOverhead = 2 + 4 + headerSize + 4 + 1

// BlockRoomNeeded is the least max_block_bytes under version v that holds a transaction of
// txBytes beside the certificate of a set of n validators: the rule every validator set
// (genesis's and each change's) must keep, so a block can always carry the largest
// transaction. Version3's headers are 32 bytes longer.
func BlockRoomNeeded(v Version, txBytes, n int) int {
	overhead := blockOverhead
	if v < Version3 {
		overhead -= headerSize - headerSizeV1
	}
	return overhead + 4 + txBytes + 4 + CommitSize(n)
}

// Size is the exact length of the block's encoding, computed without encoding it.
func (b *Block) Size() int {
	size := blockOverhead
	if b.Header.NextValidators == (Hash{}) {
		size -= headerSize - headerSizeV1
	}
	for _, tx := range b.Txs {
		size += 4 + tx.Size()
	}
	if b.LastCommit != nil {
		size += 4 + CommitSize(len(b.LastCommit.Sigs))
	}
	return size
}

// Encode is the canonical block encoding: 'B' 1, the header, the transactions each
// length-prefixed, then the previous block's certificate if present.
func (b *Block) Encode() []byte {
	e := encoder{Buf: make([]byte, 0, b.Size())}
	e.U8(tagBlock)
	e.U8(encodingVersion)
	e.Bytes(b.Header.Encode())
	e.U32(uint32(len(b.Txs)))
	for _, tx := range b.Txs {
		e.U32(uint32(tx.Size()))
		tx.encodeTo(&e)
	}
	e.Bool(b.LastCommit != nil)
	if b.LastCommit != nil {
		e.Bytes(b.LastCommit.Encode())
	}
	return e.Buf
}

// DecodeBlock strictly decodes a block and runs the stateless checks of its parts: every
// transaction's, the tx root and the last-commit hash against the header. Signatures and
// the certificate's validity need the validator set and are checked by VerifyCommit.
func DecodeBlock(buf []byte) (*Block, error) {
	if len(buf) > MaxBlockBytes {
		return nil, fmt.Errorf("%w: block of %d bytes exceeds %d", ErrTooLarge, len(buf), MaxBlockBytes)
	}
	d := newDecoder(buf)
	if tag := d.U8(); d.Err == nil && tag != tagBlock {
		d.Fail("not a block (tag %#x)", tag)
	}
	if v := d.U8(); d.Err == nil && v != encodingVersion {
		return nil, fmt.Errorf("%w: block version %d", ErrUnknownVersion, v)
	}
	h, err := DecodeHeader(d.Bytes(headerSize))
	if d.Err != nil {
		return nil, d.Err
	}
	if err != nil {
		return nil, err
	}
	b := &Block{Header: *h}
	n := d.Count(MaxBlockBytes/100, 100)
	if n > 0 {
		b.Txs = make([]*Tx, 0, n)
	}
	for i := 0; i < n && d.Err == nil; i++ {
		raw := d.Bytes(MaxTxBytes)
		if d.Err != nil {
			break
		}
		tx, err := DecodeTx(raw)
		if err != nil {
			return nil, fmt.Errorf("tx %d: %w", i, err)
		}
		b.Txs = append(b.Txs, tx)
	}
	if d.Bool() {
		raw := d.Bytes(MaxValidators*90 + 128)
		if d.Err == nil {
			c, err := DecodeCommit(raw)
			if err != nil {
				return nil, fmt.Errorf("last commit: %w", err)
			}
			b.LastCommit = c
		}
	}
	if err := d.Finish(); err != nil {
		return nil, err
	}
	if err := b.CheckStructure(); err != nil {
		return nil, err
	}
	return b, nil
}

// CheckStructure verifies what a block says about itself: its tx root and last-commit hash
// match what it carries, and it carries a certificate exactly when it is past height 1.
// DecodeBlock runs it; the ledger runs it on every block it applies.
func (b *Block) CheckStructure() error {
	if root := b.ComputeTxRoot(); root != b.Header.TxRoot {
		return rejectf(ErrBadBlock, "tx root %s does not match transactions (%s)", b.Header.TxRoot, root)
	}
	var lc Hash
	if b.LastCommit != nil {
		lc = b.LastCommit.Hash()
	}
	if lc != b.Header.LastCommitHash {
		return rejectf(ErrBadBlock, "last commit hash %s does not match the carried certificate (%s)", b.Header.LastCommitHash, lc)
	}
	if b.Header.Height == 1 && b.LastCommit != nil {
		return rejectf(ErrBadBlock, "block 1 carries a certificate")
	}
	if b.Header.Height > 1 && b.LastCommit == nil {
		return rejectf(ErrBadBlock, "block %d lacks the certificate of block %d", b.Header.Height, b.Header.Height-1)
	}
	if b.Header.Height == 0 {
		return rejectf(ErrBadBlock, "height 0 is the genesis, not a block")
	}
	return nil
}

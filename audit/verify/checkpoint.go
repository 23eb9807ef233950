package verify

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/loyal-ledger/loyal/chain"
)

// Checkpoint is where a successful verification ended, with what a later one needs to go on
// from there without reading the chain again: the genesis, the last block's header and every
// state record after it, and the transactions' tallies per program so far.
//
// A checkpoint proves nothing by itself and is trusted for nothing: resuming checks that its
// records hash to its header's state root, that the genesis is the one verified, and — with
// the first block read after it, which carries the certificate of the checkpoint's block —
// that more than two thirds of the validators signed that header. A changed byte anywhere
// fails one of these (the tallies are checked against the programs' records, part of the
// state, at the end).
type Checkpoint struct {
	Genesis chain.Hash
	Header  chain.Header
	records map[string][]byte
	tally   map[string]*ProgramReport
	// changes are the chain's validator-set changes below Header (protocol version 3):
	// resuming follows them from genesis's validators (chain.FollowSetChanges) and requires
	// the records' validator epochs to be those, so the set that certifies the checkpoint's
	// header comes from genesis, not from the checkpoint.
	changes []chain.SetChange
}

// Height is the checkpoint's height.
func (c *Checkpoint) Height() uint64 { return c.Header.Height }

// checkpointMagic opens a checkpoint file; the byte after it is the format version.
const checkpointMagic = "LOYALCKP"

// checkpointVersion 2 adds the validator-set changes after the records; version 1 files,
// of chains whose set never changed, are still read.
const checkpointVersion = 2

// maxCheckpointRecord bounds one length-prefixed field of a checkpoint file.
const maxCheckpointRecord = 64 << 20

// WriteTo writes the checkpoint: magic, version, then length-prefixed fields — genesis
// hash, header encoding, the tally count and each program's tally (symbol, then earned,
// reversed, redeemed, exchanged out and in, 8 bytes each) in symbol order, the record count,
// and each record's key and value in key order.
func (c *Checkpoint) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriter(w)
	cw := &countWriter{w: bw}
	cw.write([]byte(checkpointMagic))
	version := byte(checkpointVersion)
	if len(c.changes) == 0 {
		version = 1 // what earlier builds read: a chain whose set never changed needs no more
	}
	cw.write([]byte{version})
	cw.field(c.Genesis[:])
	cw.field(c.Header.Encode())
	tally := c.sortedTally()
	cw.field(binary.BigEndian.AppendUint64(nil, uint64(len(tally))))
	for _, p := range tally {
		cw.field([]byte(p.Symbol))
		var f []byte
		for _, v := range []uint64{p.Earned, p.Reversed, p.Redeemed, p.ExchangedOut, p.ExchangedIn} {
			f = binary.BigEndian.AppendUint64(f, v)
		}
		cw.field(f)
	}
	keys := make([]string, 0, len(c.records))
	for k := range c.records {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	cw.field(binary.BigEndian.AppendUint64(nil, uint64(len(keys))))
	for _, k := range keys {
		cw.field([]byte(k))
		cw.field(c.records[k])
	}
	if version >= 2 {
		cw.field(binary.BigEndian.AppendUint64(nil, uint64(len(c.changes))))
		for i := range c.changes {
			cw.field(c.changes[i].Encode())
		}
	}
	if cw.err == nil {
		cw.err = bw.Flush()
	}
	return cw.n, cw.err
}

func (c *Checkpoint) sortedTally() []ProgramReport {
	out := make([]ProgramReport, 0, len(c.tally))
	for _, p := range c.tally {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b ProgramReport) int {
		if a.Symbol < b.Symbol {
			return -1
		}
		if a.Symbol > b.Symbol {
			return 1
		}
		return 0
	})
	return out
}

// ReadCheckpoint reads a checkpoint written by WriteTo. It checks the format only; Verify
// checks what it says (see Checkpoint).
func ReadCheckpoint(r io.Reader) (*Checkpoint, error) {
	br := bufio.NewReader(r)
	head := make([]byte, len(checkpointMagic)+1)
	if _, err := io.ReadFull(br, head); err != nil || string(head[:len(checkpointMagic)]) != checkpointMagic {
		return nil, fmt.Errorf("%w: not a checkpoint", ErrBadCheckpoint)
	}
	version := head[len(checkpointMagic)]
	if version != 1 && version != checkpointVersion {
		return nil, fmt.Errorf("%w: version %d, this build reads 1 and %d", ErrBadCheckpoint, version, checkpointVersion)
	}
	fr := &fieldReader{r: br}
	c := &Checkpoint{records: map[string][]byte{}, tally: map[string]*ProgramReport{}}
	g := fr.field()
	hdr := fr.field()
	programs := fr.count()
	if fr.err != nil {
		return nil, fr.err
	}
	if len(g) != len(chain.Hash{}) {
		return nil, fmt.Errorf("%w: malformed", ErrBadCheckpoint)
	}
	copy(c.Genesis[:], g)
	h, err := chain.DecodeHeader(hdr)
	if err != nil {
		return nil, fmt.Errorf("%w: header: %w", ErrBadCheckpoint, err)
	}
	c.Header = *h
	var lastSymbol string
	for i := uint64(0); i < programs; i++ {
		sym, f := fr.field(), fr.field()
		if fr.err != nil {
			return nil, fr.err
		}
		if len(f) != 5*8 || (i > 0 && string(sym) <= lastSymbol) {
			return nil, fmt.Errorf("%w: malformed tally", ErrBadCheckpoint)
		}
		lastSymbol = string(sym)
		u := func(i int) uint64 { return binary.BigEndian.Uint64(f[8*i:]) }
		c.tally[lastSymbol] = &ProgramReport{Symbol: lastSymbol, Earned: u(0), Reversed: u(1), Redeemed: u(2), ExchangedOut: u(3), ExchangedIn: u(4)}
	}
	n := fr.count()
	var last string
	for i := uint64(0); i < n; i++ {
		k, v := fr.field(), fr.field()
		if fr.err != nil {
			return nil, fr.err
		}
		if i > 0 && string(k) <= last {
			return nil, fmt.Errorf("%w: records out of order", ErrBadCheckpoint)
		}
		last = string(k)
		c.records[last] = v
	}
	if version >= 2 {
		n := fr.count()
		if n > chain.MaxSetChanges {
			return nil, fmt.Errorf("%w: %d validator-set changes", ErrBadCheckpoint, n)
		}
		for i := uint64(0); i < n; i++ {
			b := fr.field()
			if fr.err != nil {
				return nil, fr.err
			}
			sc, err := chain.DecodeSetChange(b)
			if err != nil {
				return nil, fmt.Errorf("%w: validator-set change %d: %w", ErrBadCheckpoint, i, err)
			}
			c.changes = append(c.changes, *sc)
		}
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return nil, fmt.Errorf("%w: bytes after the last record", ErrBadCheckpoint)
	}
	return c, nil
}

// ErrBadCheckpoint is a checkpoint that cannot be read or does not hold what it claims.
var ErrBadCheckpoint = &chain.Error{Code: "bad_checkpoint", Msg: "bad checkpoint"}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) write(b []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(b)
	c.n += int64(n)
	c.err = err
}

func (c *countWriter) field(b []byte) {
	c.write(binary.BigEndian.AppendUint32(nil, uint32(len(b))))
	c.write(b)
}

// count reads an 8-byte count field.
func (f *fieldReader) count() uint64 {
	b := f.field()
	if f.err == nil && len(b) != 8 {
		f.err = fmt.Errorf("%w: malformed count", ErrBadCheckpoint)
	}
	if f.err != nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

type fieldReader struct {
	r   *bufio.Reader
	err error
}

func (f *fieldReader) field() []byte {
	if f.err != nil {
		return nil
	}
	var n [4]byte
	if _, err := io.ReadFull(f.r, n[:]); err != nil {
		f.err = fmt.Errorf("%w: truncated", ErrBadCheckpoint)
		return nil
	}
	size := binary.BigEndian.Uint32(n[:])
	if size > maxCheckpointRecord {
		f.err = fmt.Errorf("%w: a field of %d bytes", ErrBadCheckpoint, size)
		return nil
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(f.r, b); err != nil {
		f.err = fmt.Errorf("%w: truncated", ErrBadCheckpoint)
		return nil
	}
	return b
}

// checkpoint is the verifier's state as a checkpoint (after a successful verification); nil
// at height 0, where there is nothing to skip and no header a certificate could tie to.
func (v *verifier) checkpoint() *Checkpoint {
	if v.parent.Height == 0 {
		return nil
	}
	c := &Checkpoint{Genesis: v.rep.Genesis, records: v.state.records, tally: v.tally, changes: v.changes}
	if v.changePending { // the last block's change: its certificate is not carried yet
		c.changes = v.changes[:len(v.changes)-1]
	}
	if v.last != nil {
		c.Header = v.last.Header
	} else if v.sinceHeader != nil {
		c.Header = *v.sinceHeader
	}
	return c
}

// resume starts the verifier from c: its records must hash to its header's state root; its
// header's hash is checked by the certificate the next block carries (CheckNext).
func (v *verifier) resume(c *Checkpoint) error {
	if c.Height() == 0 {
		// Nothing would tie a height-0 header to the genesis: no certificate covers it.
		return v.fail(0, CheckCheckpoint, errors.New("a checkpoint at height 0 is no checkpoint"))
	}
	if c.Genesis != v.rep.Genesis {
		return v.fail(c.Height(), CheckCheckpoint, fmt.Errorf("the checkpoint is of genesis %s, the chain's is %s", c.Genesis, v.rep.Genesis))
	}
	st := newMemState()
	for k, val := range c.records {
		st.apply([]chain.Change{{Key: []byte(k), Value: val}})
	}
	if root := st.root(); root != c.Header.StateRoot {
		return v.fail(c.Height(), CheckCheckpoint, fmt.Errorf("its records hash to %s, its header says %s", root, c.Header.StateRoot))
	}
	v.state = st
	if err := v.followCheckpoint(c, st); err != nil {
		return v.fail(c.Height(), CheckCheckpoint, err)
	}
	for sym, p := range c.tally {
		cp := *p
		v.tally[sym] = &cp
	}
	v.parent = chain.Parent{Height: c.Header.Height, Hash: c.Header.Hash(), Time: c.Header.Time}
	h := c.Header
	v.sinceHeader = &h
	v.rep.Height, v.rep.StateRoot = c.Header.Height, c.Header.StateRoot
	return nil
}

// followCheckpoint takes the validator sets from the checkpoint's records (what the chain
// decided, including changes not yet in force) only once they agree with the set changes it
// carries, which lead from genesis's validators to its header's, each certified by the set
// before: otherwise a forged checkpoint could name its own validators, which would then
// certify its header.
func (v *verifier) followCheckpoint(c *Checkpoint, st *memState) error {
	if n := len(c.changes); n > 0 && c.changes[n-1].Header.Height >= c.Header.Height {
		return fmt.Errorf("a validator-set change at height %d, not below the checkpoint's %d", c.changes[n-1].Header.Height, c.Header.Height)
	}
	certified, err := chain.FollowSetChanges(v.g, c.changes, c.Header.Height)
	if err != nil {
		return err
	}
	if err := v.schedule.Follow(st); err != nil {
		return err
	}
	h := c.Header.Height
	var fromState, fromChanges []chain.Activation
	for _, a := range v.schedule.Activations() {
		if a.Height <= h {
			fromState = append(fromState, a)
		}
	}
	fromChanges = certified.Activations()
	if len(fromState) != len(fromChanges) {
		return fmt.Errorf("its records hold %d validator-set changes up to height %d, the certified changes it carries %d", len(fromState), h, len(fromChanges))
	}
	for i := range fromState {
		s, cc := fromState[i], fromChanges[i]
		if s.Height != cc.Height || chain.ValidatorSetHash(s.Rules.Validators) != chain.ValidatorSetHash(cc.Rules.Validators) {
			return fmt.Errorf("validator-set change %d: its records say %s from %d, the certified change %s from %d",
				i, chain.ValidatorSetHash(s.Rules.Validators).Hex(), s.Height, chain.ValidatorSetHash(cc.Rules.Validators).Hex(), cc.Height)
		}
	}
	v.changes = slices.Clone(c.changes)
	if cur := v.schedule.At(h); cur.Version >= chain.Version3 {
		next := v.schedule.At(h + 1).Validators
		if hash := chain.ValidatorSetHash(next); hash != c.Header.NextValidators {
			return fmt.Errorf("its records put the set %s in force at %d, its header commits to %s", hash.Hex(), h+1, c.Header.NextValidators.Hex())
		}
		if chain.ValidatorSetHash(cur.Validators) != c.Header.NextValidators {
			// The checkpoint's own block commits to a new set: a change whose certificate
			// the next block carries, as for any block verified.
			v.changes = append(v.changes, chain.SetChange{Header: c.Header, Validators: slices.Clone(next)})
			v.changePending = true
		}
	}
	return nil
}

// Package wire is the primitive layer of Loyal's canonical binary encodings, shared by the
// chain's types and the consensus messages: fixed-width big-endian integers, fixed-size
// hashes and addresses, length-prefixed strings and byte strings, and bounded list counts.
// Encoder appends; Decoder reads strictly with a sticky error (after the first failure every
// read returns zero values and Err says what went wrong first), so a type's decoder reads
// straight through and checks Err once. Each package supplies its own error values, so that
// its callers keep their stable error codes.
package wire

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"
)

// Encoder appends to Buf.
type Encoder struct{ Buf []byte }

func (e *Encoder) U8(v uint8)   { e.Buf = append(e.Buf, v) }
func (e *Encoder) U16(v uint16) { e.Buf = binary.BigEndian.AppendUint16(e.Buf, v) }
func (e *Encoder) U32(v uint32) { e.Buf = binary.BigEndian.AppendUint32(e.Buf, v) }
func (e *Encoder) U64(v uint64) { e.Buf = binary.BigEndian.AppendUint64(e.Buf, v) }

// Bool writes 1 or 0.
func (e *Encoder) Bool(v bool) {
	if v {
		e.U8(1)
	} else {
		e.U8(0)
	}
}

func (e *Encoder) Address(a common.Address) { e.Buf = append(e.Buf, a[:]...) }
func (e *Encoder) Hash(h common.Hash)       { e.Buf = append(e.Buf, h[:]...) }
func (e *Encoder) Sig(s [65]byte)           { e.Buf = append(e.Buf, s[:]...) }

// Str writes a uint16 length then the bytes. Every string field is bounded by its type's
// checks far below 65,535 bytes; a longer one here is a caller that skipped them, and
// encoding it would give two values one encoding, so it panics.
func (e *Encoder) Str(s string) {
	if len(s) > 0xffff {
		panic(fmt.Sprintf("wire: encoding a %d-byte string: the type's checks were skipped", len(s)))
	}
	e.U16(uint16(len(s)))
	e.Buf = append(e.Buf, s...)
}

// Bytes writes a uint32 length then the bytes.
func (e *Encoder) Bytes(b []byte) {
	e.U32(uint32(len(b)))
	e.Buf = append(e.Buf, b...)
}

// Errors are the error values a Decoder wraps: Malformed for anything not canonical, and the
// three limits (nil ones fall back to Malformed).
type Errors struct {
	Malformed    error
	FieldTooLong error // Str over its max
	TooLarge     error // Bytes over its max
	TooManyItems error // Count over its max
}

// Decoder reads Buf from Off; Err is its first error.
type Decoder struct {
	Buf  []byte
	Off  int
	Err  error
	errs *Errors
}

// NewDecoder reads b, reporting failures with errs.
func NewDecoder(b []byte, errs *Errors) Decoder { return Decoder{Buf: b, errs: errs} }

// Fail records a malformed-encoding error at the current offset, unless one is recorded.
func (d *Decoder) Fail(format string, args ...any) {
	d.limit(d.errs.Malformed, format+" at byte %d", append(args, d.Off)...)
}

// limit records err with a detail, unless an error is recorded (a nil err means Malformed).
func (d *Decoder) limit(err error, format string, args ...any) {
	if d.Err != nil {
		return
	}
	if err == nil {
		err = d.errs.Malformed
	}
	d.Err = fmt.Errorf("%w: %s", err, fmt.Sprintf(format, args...))
}

// Take returns the next n bytes (aliasing Buf), or nil after an error or when fewer remain.
func (d *Decoder) Take(n int) []byte {
	if d.Err != nil {
		return nil
	}
	if n < 0 || len(d.Buf)-d.Off < n {
		d.Fail("truncated: need %d bytes, have %d", n, len(d.Buf)-d.Off)
		return nil
	}
	b := d.Buf[d.Off : d.Off+n]
	d.Off += n
	return b
}

func (d *Decoder) U8() uint8 {
	if b := d.Take(1); b != nil {
		return b[0]
	}
	return 0
}

func (d *Decoder) U16() uint16 {
	if b := d.Take(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (d *Decoder) U32() uint32 {
	if b := d.Take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (d *Decoder) U64() uint64 {
	if b := d.Take(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

// Bool reads 0 or 1; any other byte is malformed.
func (d *Decoder) Bool() bool {
	switch v := d.U8(); v {
	case 0:
		return false
	case 1:
		return true
	default:
		d.Fail("boolean must be 0 or 1, got %d", v)
		return false
	}
}

func (d *Decoder) Address() (a common.Address) {
	copy(a[:], d.Take(common.AddressLength))
	return a
}

func (d *Decoder) Hash() (h common.Hash) {
	copy(h[:], d.Take(common.HashLength))
	return h
}

// Sig reads a 65-byte signature; its v must be 27 or 28 (the rest of its shape is checked
// where it is recovered).
func (d *Decoder) Sig() (s [65]byte) {
	copy(s[:], d.Take(len(s)))
	if d.Err == nil && s[64] != 27 && s[64] != 28 {
		d.Fail("signature v must be 27 or 28, got %d", s[64])
	}
	return s
}

// Str reads a length-prefixed UTF-8 string of at most max bytes.
func (d *Decoder) Str(max int) string {
	n := int(d.U16())
	if d.Err != nil {
		return ""
	}
	if n > max {
		d.limit(d.errs.FieldTooLong, "string of %d bytes exceeds %d at byte %d", n, max, d.Off)
		return ""
	}
	b := d.Take(n)
	if b == nil {
		return ""
	}
	if !utf8.Valid(b) {
		d.Fail("string is not valid UTF-8")
		return ""
	}
	return string(b)
}

// Bytes reads a uint32-length-prefixed byte string of at most max bytes (aliasing Buf).
func (d *Decoder) Bytes(max int) []byte {
	n := d.U32()
	if d.Err != nil {
		return nil
	}
	if uint64(n) > uint64(max) {
		d.limit(d.errs.TooLarge, "field of %d bytes exceeds %d at byte %d", n, max, d.Off)
		return nil
	}
	return d.Take(int(n))
}

// Count reads a uint32 list length bounded by max and by what the remaining bytes could hold
// at minItemSize each, so that a forged length cannot make the caller allocate.
func (d *Decoder) Count(max int, minItemSize int) int {
	n := d.U32()
	if d.Err != nil {
		return 0
	}
	if uint64(n) > uint64(max) {
		d.limit(d.errs.TooManyItems, "list of %d items exceeds %d at byte %d", n, max, d.Off)
		return 0
	}
	if minItemSize > 0 && uint64(n)*uint64(minItemSize) > uint64(len(d.Buf)-d.Off) {
		d.Fail("list of %d items cannot fit in %d remaining bytes", n, len(d.Buf)-d.Off)
		return 0
	}
	return int(n)
}

// Finish reports the first error, or trailing bytes.
func (d *Decoder) Finish() error {
	if d.Err != nil {
		return d.Err
	}
	if d.Off != len(d.Buf) {
		return fmt.Errorf("%w: %d trailing bytes", d.errs.Malformed, len(d.Buf)-d.Off)
	}
	return nil
}

package chain

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/common"
)

// The canonical binary encoding. Every integer is fixed-width big-endian (so there is exactly
// one encoding of each value), every variable-length field carries its length, and every
// top-level encoding starts with a type byte and a version byte. Decoding is strict: unknown
// versions, bad booleans, invalid UTF-8, over-long fields and trailing bytes are rejected, so
// decode(encode(x)) == x and encode(decode(b)) == b for every b that decodes.

// encoder appends to a byte slice.
type encoder struct{ buf []byte }

func (e *encoder) u8(v uint8)   { e.buf = append(e.buf, v) }
func (e *encoder) u16(v uint16) { e.buf = binary.BigEndian.AppendUint16(e.buf, v) }
func (e *encoder) u32(v uint32) { e.buf = binary.BigEndian.AppendUint32(e.buf, v) }
func (e *encoder) u64(v uint64) { e.buf = binary.BigEndian.AppendUint64(e.buf, v) }
func (e *encoder) bool(v bool) {
	if v {
		e.u8(1)
	} else {
		e.u8(0)
	}
}
func (e *encoder) address(a common.Address) { e.buf = append(e.buf, a[:]...) }
func (e *encoder) hash(h common.Hash)       { e.buf = append(e.buf, h[:]...) }

// str writes a uint16 length then the bytes. Every string field is bounded by the stateless
// checks far below 65,535 bytes; a longer one here is a caller that skipped them, and
// encoding it would give two transactions one id, so it panics.
func (e *encoder) str(s string) {
	if len(s) > 0xffff {
		panic(fmt.Sprintf("chain: encoding a %d-byte string: stateless checks were skipped", len(s)))
	}
	e.u16(uint16(len(s)))
	e.buf = append(e.buf, s...)
}

// bytes writes a uint32 length then the bytes.
func (e *encoder) bytes(b []byte) {
	e.u32(uint32(len(b)))
	e.buf = append(e.buf, b...)
}

// decoder reads with a sticky error: after the first failure every read returns zero values
// and err says what went wrong first.
type decoder struct {
	buf []byte
	off int
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s at byte %d", ErrMalformed, fmt.Sprintf(format, args...), d.off)
	}
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || len(d.buf)-d.off < n {
		d.fail("truncated: need %d bytes, have %d", n, len(d.buf)-d.off)
		return nil
	}
	b := d.buf[d.off : d.off+n]
	d.off += n
	return b
}

func (d *decoder) u8() uint8 {
	b := d.take(1)
	if b == nil {
		return 0
	}
	return b[0]
}

func (d *decoder) u16() uint16 {
	b := d.take(2)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint16(b)
}

func (d *decoder) u32() uint32 {
	b := d.take(4)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

func (d *decoder) u64() uint64 {
	b := d.take(8)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func (d *decoder) bool() bool {
	switch v := d.u8(); v {
	case 0:
		return false
	case 1:
		return true
	default:
		d.fail("boolean must be 0 or 1, got %d", v)
		return false
	}
}

func (d *decoder) address() (a common.Address) {
	copy(a[:], d.take(common.AddressLength))
	return a
}

func (d *decoder) hash() (h common.Hash) {
	copy(h[:], d.take(common.HashLength))
	return h
}

// str reads a length-prefixed UTF-8 string of at most max bytes.
func (d *decoder) str(max int) string {
	n := int(d.u16())
	if d.err != nil {
		return ""
	}
	if n > max {
		d.err = fmt.Errorf("%w: string of %d bytes exceeds %d at byte %d", ErrFieldTooLong, n, max, d.off)
		return ""
	}
	b := d.take(n)
	if b == nil {
		return ""
	}
	if !utf8.Valid(b) {
		d.fail("string is not valid UTF-8")
		return ""
	}
	return string(b)
}

// bytes reads a uint32-length-prefixed byte string of at most max bytes.
func (d *decoder) bytes(max int) []byte {
	n := d.u32()
	if d.err != nil {
		return nil
	}
	if uint64(n) > uint64(max) {
		d.err = fmt.Errorf("%w: field of %d bytes exceeds %d at byte %d", ErrTooLarge, n, max, d.off)
		return nil
	}
	return d.take(int(n))
}

// count reads a uint32 list length bounded by max and by what the remaining bytes could hold
// at minItemSize each, so a forged length cannot make us allocate.
func (d *decoder) count(max int, minItemSize int) int {
	n := d.u32()
	if d.err != nil {
		return 0
	}
	if uint64(n) > uint64(max) {
		d.err = fmt.Errorf("%w: list of %d items exceeds %d at byte %d", ErrTooManyItems, n, max, d.off)
		return 0
	}
	if minItemSize > 0 && uint64(n)*uint64(minItemSize) > uint64(len(d.buf)-d.off) {
		d.fail("list of %d items cannot fit in %d remaining bytes", n, len(d.buf)-d.off)
		return 0
	}
	return int(n)
}

// finish reports the first error, or trailing bytes.
func (d *decoder) finish() error {
	if d.err != nil {
		return d.err
	}
	if d.off != len(d.buf) {
		return fmt.Errorf("%w: %d trailing bytes", ErrMalformed, len(d.buf)-d.off)
	}
	return nil
}

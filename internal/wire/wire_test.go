package wire

import (
	"errors"
	"testing"
)

var (
	errMalformed = errors.New("malformed")
	errLong      = errors.New("long")
	errs         = &Errors{Malformed: errMalformed, FieldTooLong: errLong}
)

// What the encoder writes, the decoder reads back, and nothing is left over.
func TestRoundTrip(t *testing.T) {
	var e Encoder
	e.U8(7)
	e.U16(0x1234)
	e.U32(0xdeadbeef)
	e.U64(1 << 60)
	e.Bool(true)
	e.Str("héllo")
	e.Bytes([]byte{1, 2, 3})
	e.U32(2) // a count
	sig := [65]byte{64: 28}
	e.Sig(sig)
	d := NewDecoder(e.Buf, errs)
	if d.U8() != 7 || d.U16() != 0x1234 || d.U32() != 0xdeadbeef || d.U64() != 1<<60 || !d.Bool() ||
		d.Str(10) != "héllo" || string(d.Bytes(3)) != "\x01\x02\x03" || d.Count(2, 0) != 2 || d.Sig() != sig {
		t.Fatal("round trip differs")
	}
	if err := d.Finish(); err != nil {
		t.Fatal(err)
	}
}

// Each kind of bad input is refused with the package's error value, and the first error
// sticks: later reads return zero values.
func TestDecoderRefuses(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		read func(*Decoder)
		want error
	}{
		{"truncated", []byte{1}, func(d *Decoder) { d.U16() }, errMalformed},
		{"bad boolean", []byte{2}, func(d *Decoder) { d.Bool() }, errMalformed},
		{"string over its max", []byte{0, 3, 'a', 'b', 'c'}, func(d *Decoder) { d.Str(2) }, errLong},
		{"invalid UTF-8", []byte{0, 1, 0xff}, func(d *Decoder) { d.Str(2) }, errMalformed},
		{"bytes over max, no value for the limit: malformed", []byte{0, 0, 0, 9}, func(d *Decoder) { d.Bytes(8) }, errMalformed},
		{"count beyond the remaining bytes", []byte{0, 0, 0, 5, 1, 2}, func(d *Decoder) { d.Count(10, 1) }, errMalformed},
		{"signature v", append(make([]byte, 64), 29), func(d *Decoder) { d.Sig() }, errMalformed},
		{"trailing bytes", []byte{1, 2}, func(d *Decoder) { d.U8() }, errMalformed},
	} {
		d := NewDecoder(tc.in, errs)
		tc.read(&d)
		if d.Err != nil {
			first := d.Err
			if got := d.U64(); got != 0 || d.Err != first {
				t.Errorf("%s: read %d after an error, error now %v", tc.name, got, d.Err)
			}
		}
		if err := d.Finish(); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

package p2p

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

type noDeadline struct{}

func (noDeadline) SetReadDeadline(time.Time) error { return nil }

func TestReadFrame(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want string // the message, or the frame error kind
		err  error  // a plain error instead
	}{
		{"one byte", []byte{1, 'x'}, "x", nil},
		{"two-byte length", append([]byte{0x80, 0x01}, bytes.Repeat([]byte{'y'}, 128)...), string(bytes.Repeat([]byte{'y'}, 128)), nil},
		{"at the limit", append([]byte{200, 1}, make([]byte, 200)...), string(make([]byte, 200)), nil},
		{"above the limit", append([]byte{201, 1}, make([]byte, 201)...), kindOversize, nil},
		{"empty frame", []byte{0}, kindMalformed, nil},
		{"length not minimal", []byte{0x81, 0x00}, kindMalformed, nil},
		{"length of five bytes", []byte{0x81, 0x80, 0x80, 0x80, 0x01}, kindOversize, nil},
		{"length cut short", []byte{0x81}, kindMalformed, nil},
		{"body cut short", []byte{3, 'a'}, kindMalformed, nil},
		{"end of stream between frames", nil, "", io.EOF},
	}
	for _, tc := range cases {
		msg, err := readFrame(bufio.NewReader(bytes.NewReader(tc.in)), noDeadline{}, 200, time.Second, time.Second)
		var fe *frameError
		switch {
		case tc.err != nil:
			if !errors.Is(err, tc.err) {
				t.Errorf("%s: err %v, want %v", tc.name, err, tc.err)
			}
		case errors.As(err, &fe):
			if fe.kind != tc.want {
				t.Errorf("%s: %s frame, want %q", tc.name, fe.kind, tc.want)
			}
		case err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case string(msg) != tc.want:
			t.Errorf("%s: got %q", tc.name, msg)
		}
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{1, 'x', 2, 'y', 'z'})
	f.Add([]byte{0x80, 0x01})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReader(bytes.NewReader(in))
		var out bytes.Buffer
		w := bufio.NewWriter(&out)
		for {
			msg, err := readFrame(r, noDeadline{}, 1000, time.Second, time.Second)
			if err != nil {
				break
			}
			if len(msg) == 0 || len(msg) > 1000 {
				t.Fatalf("frame of %d bytes accepted", len(msg))
			}
			if err := writeFrame(w, msg); err != nil {
				t.Fatal(err)
			}
		}
		_ = w.Flush()
		if !bytes.HasPrefix(in, out.Bytes()) {
			t.Fatal("re-encoding the accepted frames does not give back their bytes")
		}
	})
}

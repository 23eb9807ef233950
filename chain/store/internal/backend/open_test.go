package backend

import (
	"errors"
	"testing"

	"github.com/loyal-ledger/loyal/chain/store"
)

// A panic inside an engine's open becomes one error wrapping store.ErrCorrupt that names the
// engine, the directory and the panic.
func TestRecoverTurnsAPanicIntoErrCorrupt(t *testing.T) {
	open := func() (err error) {
		defer Recover("pebble", "/data", &err)
		panic(errors.New("nil manifest")) // what an engine's bug on a damaged store looks like
	}
	err := open()
	if !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
	const want = "store: open pebble /data: store: corrupt: the engine failed on the files it found (nil manifest)"
	if err.Error() != want {
		t.Fatalf("err = %q\nwant  %q", err, want)
	}
}

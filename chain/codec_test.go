package chain_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/loyal-ledger/loyal/chain"
)

func TestTxEncodingRoundTrip(t *testing.T) {
	for _, tx := range seedTxs(t) {
		t.Run(tx.Kind().String(), func(t *testing.T) {
			got, err := chain.DecodeTx(tx.Encode())
			if err != nil {
				t.Fatal(err)
			}
			if got.Hash() != tx.Hash() || got.Kind() != tx.Kind() || got.Nonce != tx.Nonce {
				t.Fatalf("round trip changed the transaction")
			}
		})
	}
}

func TestTxDecodingRejects(t *testing.T) {
	tx := seedTxs(t)[4] // a transfer
	good := tx.Encode()
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	cases := []struct {
		name string
		in   []byte
		want *chain.Error
	}{
		{"trailing byte", append(append([]byte(nil), good...), 0), chain.ErrMalformed},
		{"truncated", good[:len(good)-1], chain.ErrMalformed},
		{"empty", nil, chain.ErrMalformed},
		{"wrong tag", mut(func(b []byte) []byte { b[0] = 'H'; return b }), chain.ErrMalformed},
		{"unknown version", mut(func(b []byte) []byte { b[1] = 2; return b }), chain.ErrUnknownVersion},
		{"unknown kind", mut(func(b []byte) []byte { b[2] = 99; return b }), chain.ErrUnknownKind},
		{"v not 27/28", mut(func(b []byte) []byte { b[len(b)-1] = 1; return b }), chain.ErrBadSignature},
		{"zero r", mut(func(b []byte) []byte { clear(b[len(b)-65 : len(b)-33]); return b }), chain.ErrBadSignature},
		{"high s", mut(func(b []byte) []byte {
			for i := len(b) - 33; i < len(b)-1; i++ {
				b[i] = 0xff
			}
			return b
		}), chain.ErrBadSignature},
		{"lowercase symbol", mut(func(b []byte) []byte { b[2+1+24+2] = 'a'; return b }), chain.ErrBadSymbol},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := chain.DecodeTx(c.in)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestBlockEncodingRoundTrip(t *testing.T) {
	blk := seedBlock(t)
	got, err := chain.DecodeBlock(blk.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if got.Hash() != blk.Hash() || len(got.Txs) != len(blk.Txs) || got.LastCommit.Hash() != blk.LastCommit.Hash() {
		t.Fatal("block round trip changed it")
	}
	// A block whose tx root does not match its transactions is rejected at decode.
	bad := seedBlock(t)
	bad.Txs = bad.Txs[1:]
	if _, err := chain.DecodeBlock(bad.Encode()); !errors.Is(err, chain.ErrBadBlock) {
		t.Fatalf("tx root mismatch: got %v", err)
	}
}

func TestBlockTxProofs(t *testing.T) {
	blk := seedBlock(t)
	for i := range blk.Txs {
		p, err := chain.ProveTx(blk.Txs, i)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Verify(&blk.Header); err != nil {
			t.Fatalf("tx %d: %v", i, err)
		}
		p.Index = (p.Index + 1) % p.Total
		if err := p.Verify(&blk.Header); err == nil {
			t.Fatalf("tx %d: proof verified at the wrong index", i)
		}
	}
}

func TestTxJSONRoundTrip(t *testing.T) {
	for _, tx := range seedTxs(t) {
		t.Run(tx.Kind().String(), func(t *testing.T) {
			b, err := tx.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			var got chain.Tx
			if err := got.UnmarshalJSON(b); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
			if got.Hash() != tx.Hash() {
				t.Fatalf("JSON round trip changed the tx id: %s", b)
			}
		})
	}
	var tx chain.Tx
	if err := tx.UnmarshalJSON([]byte(`{"kind":"transfer","chain_id":"7","nonce":"0","valid_until":"0","body":{"program":"ACME","to":"0x0000000000000000000000000000000000000001","amount":"5","memo":"","extra":1},"signature":"0x00"}`)); !errors.Is(err, chain.ErrMalformed) {
		t.Fatalf("unknown body field: got %v", err)
	}
	if err := tx.UnmarshalJSON([]byte(`{"kind":"mint","chain_id":"7","nonce":"0","valid_until":"0","body":{},"signature":"0x00"}`)); !errors.Is(err, chain.ErrUnknownKind) {
		t.Fatalf("unknown kind: got %v", err)
	}
}

// A transaction's JSON has one reading: a key written twice, a key in another case and an
// integer with a leading zero or a sign are malformed, though encoding/json alone would take
// them (the signature covers the binary encoding, so each would otherwise verify).
func TestTxJSONHasOneReading(t *testing.T) {
	var js string
	for _, tx := range seedTxs(t) {
		if tx.Kind().String() == "transfer" {
			b, err := tx.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			js = string(b)
		}
	}
	if js == "" || !strings.Contains(js, `"kind":"transfer"`) || !strings.Contains(js, `"amount":"`) || !strings.Contains(js, `"nonce":"`) {
		t.Fatalf("no transfer among the seeds, or an unexpected form: %s", js)
	}
	for _, tc := range []struct{ name, old, new string }{
		{"envelope key in another case", `"kind":`, `"Kind":`},
		{"body key in another case", `"amount":`, `"AMOUNT":`},
		{"body key in capitals", `"memo":`, `"MEMO":`},
		{"envelope key twice", `"kind":"transfer"`, `"kind":"transfer","kind":"transfer"`},
		{"body key twice", `"amount":"`, `"amount":"9","amount":"`},
		{"amount with a leading zero", `"amount":"`, `"amount":"0`},
		{"amount with a plus sign", `"amount":"`, `"amount":"+`},
		{"nonce with a leading zero", `"nonce":"`, `"nonce":"0`},
		{"chain id with a plus sign", `"chain_id":"`, `"chain_id":"+`},
	} {
		bad := strings.Replace(js, tc.old, tc.new, 1)
		var tx chain.Tx
		if err := tx.UnmarshalJSON([]byte(bad)); !errors.Is(err, chain.ErrMalformed) {
			t.Errorf("%s: got %v, want ErrMalformed (%s)", tc.name, err, bad)
		}
	}
}

// Block.Size is what the ledger uses to fill and check blocks without encoding them.
func TestBlockSizeIsEncodedLength(t *testing.T) {
	blk := seedBlock(t)
	if blk.Size() != len(blk.Encode()) {
		t.Fatalf("Size %d, encoding %d bytes", blk.Size(), len(blk.Encode()))
	}
	empty := &chain.Block{Header: chain.Header{Height: 1}}
	if empty.Size() != len(empty.Encode()) {
		t.Fatalf("empty block: Size %d, encoding %d bytes", empty.Size(), len(empty.Encode()))
	}
	if got := chain.CommitSize(len(blk.LastCommit.Sigs)); got != len(blk.LastCommit.Encode()) {
		t.Fatalf("CommitSize %d, encoding %d", got, len(blk.LastCommit.Encode()))
	}
}

func TestBlockJSONRoundTrip(t *testing.T) {
	blk := seedBlock(t)
	b, err := json.Marshal(blk)
	if err != nil {
		t.Fatal(err)
	}
	var got chain.Block
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if got.Hash() != blk.Hash() || !bytes.Equal(got.Encode(), blk.Encode()) {
		t.Fatalf("JSON round trip changed the block")
	}
}

package jsonstrict

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// The API's types, as chain has them (this package cannot import chain): an envelope whose
// integers travel as decimal strings, a raw body, and fields of types that decode
// themselves.
type txEnvelope struct {
	Kind       string          `json:"kind"`
	ChainID    uint64          `json:"chain_id,string"`
	Nonce      uint64          `json:"nonce,string"`
	ValidUntil uint64          `json:"valid_until,string"`
	Body       json.RawMessage `json:"body"`
	Signature  hexBytes        `json:"signature"`
	Hash       *hash32         `json:"hash,omitempty"`
}

type transfer struct {
	Program string  `json:"program"`
	To      address `json:"to"`
	Amount  uint64  `json:"amount,string"`
	Memo    string  `json:"memo"`
}

type hexBytes []byte

func (b *hexBytes) UnmarshalJSON(in []byte) error {
	var s string
	if err := json.Unmarshal(in, &s); err != nil {
		return err
	}
	out, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	*b = out
	return err
}

type address [20]byte

func (a *address) UnmarshalText(in []byte) error {
	_, err := hex.Decode(a[:], []byte(strings.TrimPrefix(string(in), "0x")))
	return err
}

type hash32 [32]byte

func (h *hash32) UnmarshalText(in []byte) error {
	_, err := hex.Decode(h[:], []byte(strings.TrimPrefix(string(in), "0x")))
	return err
}

// wide has more fields than indexFields, so its keys are found through a map.
type wide struct {
	A, B, C, D, E string
	F             int8   `json:"f,string"`
	G             *uint  `json:"g,string"`
	H             []wide `json:"h"`
	K             string `json:"kelvin"` // "Kelvin" folds to it, with U+212A for the K
	L             map[string]*wide
	M             [2]inner
	S             string `json:"s,string"` // ",string" on a string: not an integer's rule
}

// tree refers to itself.
type tree struct {
	Name string  `json:"name"`
	Kids []*tree `json:"kids"`
	Next **tree  `json:"next"`
}

// fuzzTypes are the types the fuzz test reads each input as; nil is a value of unknown type.
var fuzzTypes = []reflect.Type{
	reflect.TypeFor[*txEnvelope](),
	reflect.TypeFor[*transfer](),
	reflect.TypeFor[*body](),
	reflect.TypeFor[*json.RawMessage](),
	reflect.TypeFor[map[string]inner](),
	reflect.TypeFor[[]inner](),
	reflect.TypeFor[*wide](),
	reflect.TypeFor[tree](),
	reflect.TypeFor[*embeds](),
	reflect.TypeFor[*selfDecoding](),
	reflect.TypeFor[any](),
	nil,
}

const (
	benchBody     = `{"program":"ACME","to":"0x8ba1f109551bd432803012645ac136ddd64dba72","amount":"250","memo":"coffee, two sugars"}`
	benchEnvelope = `{"kind":"transfer","chain_id":"7","nonce":"42","valid_until":"1200","body":` + benchBody +
		`,"signature":"0x5f2b4a3c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a21b"}`
)

// fuzzSeeds are the inputs of the other tests, the benchmark's, and the edges of the scanner.
var fuzzSeeds = []string{
	benchEnvelope, benchBody,
	`{"program":"ACME","items":[{"amount":"0","days":0},{"amount":"18446744073709551615","delta":"-5"}]}`,
	`{"memo":"x","ptr":{"amount":"10"},"labels":{"a":"1","A":"2"},"raw":{"k":1},"any":[{"a":1}],"NoTag":"y"}`,
	` {"program":"ACME"} `,
	`{"program":"A","program":"B"}`,
	`{"items":[{"amount":"1","amount":"2"}]}`,
	`{"labels":{"a":"1","a":"2"}}`,
	`{"raw":{"k":1,"k":2}}`,
	`{"any":[{"k":1,"k":2}]}`,
	`{"Program":"ACME"}`, `{"PROGRAM":"ACME"}`, `{"memO":"x"}`, `{"notag":"x"}`,
	`{"items":[{"Amount":"1"}]}`,
	`{"items":[{"amount":"1","dayſ":1}]}`,
	`{"ptr":{"amount":"1","keep":1}}`,
	`{"items":[{"amount":"007"}]}`, `{"items":[{"amount":"+5"}]}`, `{"items":[{"amount":"-5"}]}`,
	`{"items":[{"amount":" 5"}]}`, `{"items":[{"amount":""}]}`, `{"items":[{"amount":"5e0"}]}`,
	`{"ptr":{"amount":"00"}}`, `{"items":[{"amount":"1","delta":"-0"}]}`,
	`{"items":[{"amount":"1","delta":"+1"}]}`, `{"items":[{"amount":"1","delta":"-01"}]}`,
	`{"any":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`,
	`{"any":` + strings.Repeat("[", MaxDepth-1) + strings.Repeat("]", MaxDepth-1) + `}`,
	`{"bogus":1}`, `{"program":"A"}}`, `{"program":"A"} x`, `{"program":`, ``, `{"items":[{"amount":"-5"}]`,
	`{"Whatever":"007"}`, `{"a":1,"a":1}`, `{"x":"1","y":2}`,
	`{"a":}`, `{"a" 1}`, `{"a":1,}`, `[1,]`, `[,1]`, `{,}`, `[1 2]`, `{"a":1 "b":2}`, `{1:2}`,
	`[01]`, `[-]`, `[1.]`, `[1e]`, `[1.5e+10,-0,0.0,1E-2]`, `[tru]`, `[truex]`, `[true,false,null]`,
	`1x`, `"abc`, `"a\qb"`, `"\u12"`, "\"a\x01\"", `  `, `}`, `]`, `:`, `nul`,
	`{"\u0061mount":"1","amount":"2"}`, `{"\u0041mount":"1"}`, `{"am\u006Funt":"01"}`,
	`{"amount":"\u0031"}`, `{"amount":"\u0030\u0031"}`,
	`{"\ud800":1,"\udc00":2}`, `{"\ud800\udc00":1,"𐀀":2}`, `{"\ud800\u0041":1,"\ufffdA":2}`,
	"{\"\xff\":1,\"\xfe\":2}", "{\"\xef\xbf\xbd\":1,\"\xff\":2}", "{\"amount\":\"1\xff\"}",
	`{"Kelvin":"x"}`, `{"\u212Aelvin":"x"}`, "{\"\u212aelvin\":\"x\"}", `{"kelvin":"x","KELVIN":"y"}`, `{"f":"-0"}`, `{"f":"-1"}`, `{"g":"01"}`, `{"g":null}`,
	`{"s":"007"}`, `{"h":[{"h":[{"A":"1","a":"2"}]}]}`, `{"L":{"x":{"e":"1"}}}`, `{"M":[{"amount":"01"}]}`,
	`{"name":"a","kids":[{"name":"b","kids":[{"Name":"c"}]}],"next":{"NAME":1}}`,
	`{"e1":1}`, `{"x":1,"X":2}`, `{"Y":1}`,
	`{"chain_id":"7","Chain_ID":"7"}`, `{"hash":{"a":1,"a":2}}`, `{"signature":{"Kind":1}}`,
}

// FuzzCheckMatchesReference holds Check to the Token walk it replaced: for every input and
// type, both accept, or both refuse with ErrNotStrict and the same words, or both refuse
// otherwise (a syntax error, whose words differ).
func FuzzCheckMatchesReference(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	// Objects with more keys than smallObject, whose duplicates are looked for in a map.
	f.Add([]byte(`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17,"r":18,"a":19}`))
	f.Add([]byte(`{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7,"h":8,"i":9,"j":10,"k":11,"l":12,"m":13,"n":14,"o":15,"p":16,"q":17,"r":18,"P":19}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range fuzzTypes {
			if err := agree(data, typ); err != nil {
				t.Fatalf("%v\ninput %q", err, data)
			}
		}
	})
}

// agree says how Check and the reference differ on data read as t, if they do.
func agree(data []byte, t reflect.Type) error {
	got, want := Check(data, t), refCheck(data, t)
	switch {
	case (got == nil) != (want == nil):
		return fmt.Errorf("as %v: Check says %v, the reference %v", t, got, want)
	case errors.Is(got, ErrNotStrict) != errors.Is(want, ErrNotStrict):
		return fmt.Errorf("as %v: Check says %v, the reference %v", t, got, want)
	case errors.Is(got, ErrNotStrict) && got.Error() != want.Error():
		return fmt.Errorf("as %v: Check words it %q, the reference %q", t, got, want)
	}
	return nil
}

func TestCheckMatchesReferenceOnSeeds(t *testing.T) {
	for _, s := range fuzzSeeds {
		for _, typ := range fuzzTypes {
			if err := agree([]byte(s), typ); err != nil {
				t.Errorf("%v\ninput %q", err, s)
			}
		}
	}
}

// Keys are compared as encoding/json reads them, escapes decoded.
func TestEscapedKeysAreTheSameKey(t *testing.T) {
	for _, in := range []string{
		`{"program":"A","items":[{"\u0061mount":"1","amount":"2"}]}`,
		`{"labels":{"\ud800":"1","\udc00":"2"}}`,       // each unpaired surrogate is U+FFFD
		"{\"labels\":{\"\xff\":\"1\",\"\xfe\":\"2\"}}", // each invalid byte is U+FFFD
	} {
		if err := Check([]byte(in), reflect.TypeFor[*body]()); !errors.Is(err, ErrNotStrict) || !strings.Contains(err.Error(), "key written twice") {
			t.Errorf("Check(%q) = %v, want a key written twice", in, err)
		}
	}
	if err := Check([]byte(`{"items":[{"amount":"\u0031"}]}`), reflect.TypeFor[*body]()); err != nil {
		t.Errorf("an escaped canonical integer: %v", err)
	}
}

// Check allocates nothing for a transaction as the API receives it.
func TestCheckDoesNotAllocate(t *testing.T) {
	env, tr := []byte(benchEnvelope), []byte(benchBody)
	et, bt := reflect.TypeFor[*txEnvelope](), reflect.TypeFor[*transfer]()
	if n := testing.AllocsPerRun(100, func() {
		if Check(env, et) != nil || Check(tr, bt) != nil {
			t.Fatal("refused")
		}
	}); n != 0 {
		t.Errorf("%v allocations per transaction", n)
	}
}

// BenchmarkCheck compares Check with the Token walk it replaced and with encoding/json's
// decoding alone, on a transaction's envelope and on its body.
func BenchmarkCheck(b *testing.B) {
	for _, c := range []struct {
		name string
		data []byte
		typ  reflect.Type
		into func() any
	}{
		{"envelope", []byte(benchEnvelope), reflect.TypeFor[*txEnvelope](), func() any { return new(txEnvelope) }},
		{"body", []byte(benchBody), reflect.TypeFor[*transfer](), func() any { return new(transfer) }},
	} {
		if err := Decode(c.data, c.into()); err != nil {
			b.Fatalf("%s: %v", c.name, err)
		}
		b.Run(c.name+"/new", func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := Check(c.data, c.typ); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/reference", func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := refCheck(c.data, c.typ); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(c.name+"/json.Unmarshal", func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			b.ReportAllocs()
			for b.Loop() {
				if err := json.Unmarshal(c.data, c.into()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

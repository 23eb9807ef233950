package jsonstrict

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

type inner struct {
	Amount uint64 `json:"amount,string"`
	Delta  int64  `json:"delta,string,omitempty"`
	Days   uint32 `json:"days"`
}

type base struct {
	Memo string `json:"memo"`
}

type body struct {
	base
	Program string            `json:"program"`
	Items   []inner           `json:"items"`
	Ptr     *inner            `json:"ptr,omitempty"`
	Labels  map[string]string `json:"labels,omitempty"`
	Raw     json.RawMessage   `json:"raw,omitempty"`
	Any     any               `json:"any,omitempty"`
	Skipped string            `json:"-"`
	NoTag   string
}

func TestDecodeAcceptsCanonicalBodies(t *testing.T) {
	for _, in := range []string{
		`{"program":"ACME","items":[{"amount":"0","days":0},{"amount":"18446744073709551615","delta":"-5"}]}`,
		`{"memo":"x","ptr":{"amount":"10"},"labels":{"a":"1","A":"2"},"raw":{"k":1},"any":[{"a":1}],"NoTag":"y"}`,
		` {"program":"ACME"} `,
	} {
		var v body
		if err := Decode([]byte(in), &v); err != nil {
			t.Errorf("Decode(%s): %v", in, err)
		}
	}
}

func TestDecodeRefusesAmbiguousBodies(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"program":"A","program":"B"}`, `"program": key written twice`},
		{`{"items":[{"amount":"1","amount":"2"}]}`, `"items"[0]."amount": key written twice`},
		{`{"labels":{"a":"1","a":"2"}}`, `key written twice`},
		{`{"raw":{"k":1,"k":2}}`, `key written twice`},
		{`{"any":[{"k":1,"k":2}]}`, `key written twice`},
		{`{"Program":"ACME"}`, `the field is spelled "program"`},
		{`{"PROGRAM":"ACME"}`, `the field is spelled "program"`},
		{`{"memO":"x"}`, `the field is spelled "memo"`},
		{`{"notag":"x"}`, `the field is spelled "NoTag"`},
		{`{"items":[{"Amount":"1"}]}`, `the field is spelled "amount"`},
		{`{"items":[{"amount":"1","dayſ":1}]}`, `the field is spelled "days"`}, // U+017F folds to s
		{`{"ptr":{"amount":"1","keep":1}}`, ``},                                // no field is near: DisallowUnknownFields refuses it
		{`{"items":[{"amount":"007"}]}`, `"007" is not a whole number`},
		{`{"items":[{"amount":"+5"}]}`, `"+5" is not a whole number`},
		{`{"items":[{"amount":"-5"}]}`, `"-5" is not a whole number`},
		{`{"items":[{"amount":" 5"}]}`, `" 5" is not a whole number`},
		{`{"items":[{"amount":""}]}`, `"" is not a whole number`},
		{`{"items":[{"amount":"5e0"}]}`, `"5e0" is not a whole number`},
		{`{"ptr":{"amount":"00"}}`, `"00" is not a whole number`},
		{`{"items":[{"amount":"1","delta":"-0"}]}`, `write zero as "0"`},
		{`{"items":[{"amount":"1","delta":"+1"}]}`, `"+1" is not a whole number`},
		{`{"items":[{"amount":"1","delta":"-01"}]}`, `"-01" is not a whole number`},
		{`{"any":` + strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth) + `}`, `nested deeper than`},
	} {
		var v body
		err := Decode([]byte(tc.in), &v)
		if err == nil {
			t.Errorf("Decode(%s) accepted it", tc.in)
			continue
		}
		if tc.want != "" && (!errors.Is(err, ErrNotStrict) || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Decode(%s) = %v, want ErrNotStrict and %q", tc.in, err, tc.want)
		}
	}
}

// encoding/json alone accepts what Decode refuses: the checks are what makes the difference.
func TestEncodingJSONAloneIsLax(t *testing.T) {
	for _, in := range []string{`{"program":"A","program":"B"}`, `{"Program":"A"}`, `{"items":[{"amount":"007"}]}`, `{"items":[{"dayſ":7}]}`} {
		var v body
		dec := json.NewDecoder(strings.NewReader(in))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			t.Errorf("encoding/json refuses %s itself: %v", in, err)
		}
	}
}

func TestDecodeKeepsTheOtherRules(t *testing.T) {
	for _, in := range []string{`{"bogus":1}`, `{"program":"A"}}`, `{"program":"A"} x`, `{"program":`, ``, `{"items":[{"amount":"-5"}]`} {
		var v body
		if err := Decode([]byte(in), &v); err == nil {
			t.Errorf("Decode(%q) accepted it", in)
		}
	}
}

// A type that decodes itself is checked for duplicates only.
type selfDecoding struct{ n int }

func (s *selfDecoding) UnmarshalJSON(b []byte) error { s.n = len(b); return nil }

func TestOwnDecodersAreCheckedForDuplicatesOnly(t *testing.T) {
	var s selfDecoding
	if err := Decode([]byte(`{"Whatever":"007"}`), &s); err != nil {
		t.Fatalf("a self-decoding type's keys were judged here: %v", err)
	}
	if err := Decode([]byte(`{"a":1,"a":1}`), &s); !errors.Is(err, ErrNotStrict) {
		t.Fatalf("duplicate inside a self-decoding type: %v", err)
	}
}

// Equal names at one depth of embedding are dropped, as encoding/json drops them; the
// shallower name wins.
type e1 struct {
	X string `json:"x"`
	Y string `json:"y"`
}
type e2 struct {
	X string `json:"x"`
}
type embeds struct {
	e1
	*e2
	Y int `json:"y"`
}

func TestFieldsFollowEncodingJSON(t *testing.T) {
	fs := fieldsOf(reflect.TypeFor[embeds]())
	if _, ok := fs.exact["x"]; ok {
		t.Error("x is ambiguous at depth 1 and must be dropped")
	}
	if f := fs.exact["y"]; f == nil || f.typ.Kind().String() != "int" {
		t.Errorf("y = %+v, want the outer int", f)
	}
}

// Package jsonstrict decodes JSON request bodies more strictly than encoding/json: a key
// written twice, a key that names a field only case-insensitively ("Amount" for "amount",
// which encoding/json accepts), and an integer carried as a string (the ",string" option)
// that is not in its one canonical decimal form ("007", "+5", " 5") are errors. Unknown
// fields and trailing data are errors too, as with a Decoder set to DisallowUnknownFields.
//
// A body then has one meaning, whatever the reader: no decoder can take the first of two
// "amount"s where another takes the last, and what a signature or a log shows is what was
// sent.
package jsonstrict

import (
	"bytes"
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"
)

// ErrNotStrict marks a body that is valid JSON but breaks one of the rules above.
var ErrNotStrict = errors.New("ambiguous JSON")

// MaxDepth bounds the nesting of objects and arrays (the API's bodies nest a few levels).
const MaxDepth = 32

// Decode decodes the one JSON value in data into v (a non-nil pointer) strictly: Check, then
// encoding/json with unknown fields disallowed and nothing allowed after the value.
func Decode(data []byte, v any) error {
	if err := Check(data, reflect.TypeOf(v)); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	// More() is false before a stray '}' or ']', so ask for the next token instead: only
	// the end of the input is acceptable.
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// Check walks data as a value of type t and reports the first duplicate key (in any object),
// case-mismatched key (of a struct type) or non-canonical ",string" integer, wrapping
// ErrNotStrict, or a syntax error. Values of types with their own UnmarshalJSON or
// UnmarshalText are checked for duplicate keys only: their keys are theirs to check (chain's
// transactions do, with this package). Empty input is not Check's to refuse.
func Check(data []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	c := checker{dec: dec}
	tok, err := dec.Token()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return err
	}
	return c.value(tok, t, "", 0)
}

type checker struct {
	dec *json.Decoder
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// ownDecoding reports whether t decodes itself: then its structure is not known here.
func ownDecoding(t reflect.Type) bool {
	if t.Kind() != reflect.Pointer {
		t = reflect.PointerTo(t)
	}
	return t.Implements(jsonUnmarshaler) || t.Implements(textUnmarshaler)
}

func notStrict(path, format string, args ...any) error {
	if path == "" {
		path = "the body"
	}
	return fmt.Errorf("%w: %s: %s", ErrNotStrict, path, fmt.Sprintf(format, args...))
}

func join(path, key string) string {
	if path == "" {
		return strconv.Quote(key)
	}
	return path + "." + strconv.Quote(key)
}

// value checks the value that starts with tok. t is its Go type, nil when unknown (then
// only duplicate keys are looked for).
func (c *checker) value(tok json.Token, t reflect.Type, path string, depth int) error {
	for t != nil && t.Kind() == reflect.Pointer && !ownDecoding(t) {
		t = t.Elem()
	}
	if t != nil && (t.Kind() == reflect.Interface || ownDecoding(t)) {
		t = nil
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil // a scalar: its type is encoding/json's to check
	}
	if depth >= MaxDepth {
		return notStrict(path, "nested deeper than %d levels", MaxDepth)
	}
	switch d {
	case '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; ; i++ {
			tok, err := c.dec.Token()
			if err != nil {
				return err
			}
			if tok == json.Delim(']') {
				return nil
			}
			if err := c.value(tok, elem, fmt.Sprintf("%s[%d]", path, i), depth+1); err != nil {
				return err
			}
		}
	case '{':
		return c.object(t, path, depth)
	}
	return fmt.Errorf("unexpected %v", d)
}

// object checks the members of an object whose '{' was read.
func (c *checker) object(t reflect.Type, path string, depth int) error {
	var fields *fieldSet
	var elem reflect.Type
	switch {
	case t == nil:
	case t.Kind() == reflect.Struct:
		fields = fieldsOf(t)
	case t.Kind() == reflect.Map:
		elem = t.Elem()
	}
	seen := make(map[string]bool)
	for {
		tok, err := c.dec.Token()
		if err != nil {
			return err
		}
		if tok == json.Delim('}') {
			return nil
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("%s: object key %v is not a string", path, tok)
		}
		kpath := join(path, key)
		if seen[key] {
			return notStrict(kpath, "key written twice")
		}
		seen[key] = true
		vt := elem
		var f *field
		if fields != nil {
			if f = fields.exact[key]; f == nil {
				for name := range fields.exact {
					if strings.EqualFold(name, key) {
						return notStrict(kpath, "no such key; the field is spelled %q (keys are case-sensitive)", name)
					}
				}
			} else {
				vt = f.typ
			}
		}
		tok, err = c.dec.Token()
		if err != nil {
			return err
		}
		if f != nil && f.quoted {
			if err := canonicalInteger(tok, f.typ, kpath); err != nil {
				return err
			}
		}
		if err := c.value(tok, vt, kpath, depth+1); err != nil {
			return err
		}
	}
}

// canonicalInteger checks an integer field with the ",string" option: its string must be the
// integer's one decimal form, digits without leading zeros, "-" only for a negative signed
// value.
func canonicalInteger(tok json.Token, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	signed := false
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		signed = true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
	default:
		return nil
	}
	s, ok := tok.(string)
	if !ok {
		return nil // null, or a mistake encoding/json reports
	}
	digits := s
	if signed && strings.HasPrefix(s, "-") {
		digits = s[1:]
		if digits == "0" {
			return notStrict(path, "%q: write zero as \"0\"", s)
		}
	}
	if digits == "" || (len(digits) > 1 && digits[0] == '0') || strings.Trim(digits, "0123456789") != "" {
		return notStrict(path, "%q is not a whole number in decimal digits without sign or leading zeros", s)
	}
	return nil
}

// field is one JSON key of a struct type.
type field struct {
	typ    reflect.Type
	quoted bool // the ",string" option
}

type fieldSet struct {
	exact map[string]*field
}

var fieldCache sync.Map // reflect.Type → *fieldSet

// fieldsOf lists the JSON keys of a struct type as encoding/json names them: the tag's name
// or the Go name, exported fields only, the fields of untagged embedded structs promoted
// (the shallower of two equal names wins; equal names at one depth are dropped, as
// encoding/json drops them).
func fieldsOf(t reflect.Type) *fieldSet {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.(*fieldSet)
	}
	fs := &fieldSet{exact: make(map[string]*field)}
	depthOf := make(map[string]int)
	dropped := make(map[string]bool)
	var walk func(t reflect.Type, depth int, visited map[reflect.Type]bool)
	walk = func(t reflect.Type, depth int, visited map[reflect.Type]bool) {
		if visited[t] {
			return
		}
		visited[t] = true
		defer delete(visited, t)
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			ft := sf.Type
			if sf.Anonymous && name == "" {
				et := ft
				if et.Kind() == reflect.Pointer {
					et = et.Elem()
				}
				if et.Kind() == reflect.Struct {
					walk(et, depth+1, visited)
					continue
				}
			}
			if !sf.IsExported() {
				continue
			}
			if name == "" {
				name = sf.Name
			}
			if d, ok := depthOf[name]; ok {
				if d < depth {
					continue
				}
				if d == depth {
					dropped[name] = true
					continue
				}
			}
			depthOf[name] = depth
			delete(dropped, name)
			quoted := false
			for _, o := range strings.Split(opts, ",") {
				quoted = quoted || o == "string"
			}
			fs.exact[name] = &field{typ: ft, quoted: quoted}
		}
	}
	walk(t, 0, map[reflect.Type]bool{})
	for name := range dropped {
		delete(fs.exact, name)
	}
	fieldCache.Store(t, fs)
	return fs
}

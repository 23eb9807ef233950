package jsonstrict

// The Token-based walk that Check replaced, kept word for word (names aside) as the
// reference the fuzz test holds Check to.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

// Check walks data as a value of type t and reports the first duplicate key (in any object),
// case-mismatched key (of a struct type) or non-canonical ",string" integer, wrapping
// ErrNotStrict, or a syntax error. Values of types with their own UnmarshalJSON or
// UnmarshalText are checked for duplicate keys only: their keys are theirs to check (chain's
// transactions do, with this package). Empty input is not Check's to refuse.
func refCheck(data []byte, t reflect.Type) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	c := refChecker{dec: dec}
	tok, err := dec.Token()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return err
	}
	return c.value(tok, t, "", 0)
}

type refChecker struct {
	dec *json.Decoder
}

// refOwnDecoding reports whether t decodes itself: then its structure is not known here.
func refOwnDecoding(t reflect.Type) bool {
	if t.Kind() != reflect.Pointer {
		t = reflect.PointerTo(t)
	}
	return t.Implements(jsonUnmarshaler) || t.Implements(textUnmarshaler)
}

func refNotStrict(path, format string, args ...any) error {
	if path == "" {
		path = "the body"
	}
	return fmt.Errorf("%w: %s: %s", ErrNotStrict, path, fmt.Sprintf(format, args...))
}

func refJoin(path, key string) string {
	if path == "" {
		return strconv.Quote(key)
	}
	return path + "." + strconv.Quote(key)
}

// value checks the value that starts with tok. t is its Go type, nil when unknown (then
// only duplicate keys are looked for).
func (c *refChecker) value(tok json.Token, t reflect.Type, path string, depth int) error {
	for t != nil && t.Kind() == reflect.Pointer && !refOwnDecoding(t) {
		t = t.Elem()
	}
	if t != nil && (t.Kind() == reflect.Interface || refOwnDecoding(t)) {
		t = nil
	}
	d, ok := tok.(json.Delim)
	if !ok {
		return nil // a scalar: its type is encoding/json's to check
	}
	if depth >= MaxDepth {
		return refNotStrict(path, "nested deeper than %d levels", MaxDepth)
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
func (c *refChecker) object(t reflect.Type, path string, depth int) error {
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
		kpath := refJoin(path, key)
		if seen[key] {
			return refNotStrict(kpath, "key written twice")
		}
		seen[key] = true
		vt := elem
		var f *field
		if fields != nil {
			if f = fields.exact[key]; f == nil {
				for name := range fields.exact {
					if strings.EqualFold(name, key) {
						return refNotStrict(kpath, "no such key; the field is spelled %q (keys are case-sensitive)", name)
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
			if err := refCanonicalInteger(tok, f.typ, kpath); err != nil {
				return err
			}
		}
		if err := c.value(tok, vt, kpath, depth+1); err != nil {
			return err
		}
	}
}

// refCanonicalInteger checks an integer field with the ",string" option: its string must be the
// integer's one decimal form, digits without leading zeros, "-" only for a negative signed
// value.
func refCanonicalInteger(tok json.Token, t reflect.Type, path string) error {
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
			return refNotStrict(path, "%q: write zero as \"0\"", s)
		}
	}
	if digits == "" || (len(digits) > 1 && digits[0] == '0') || strings.Trim(digits, "0123456789") != "" {
		return refNotStrict(path, "%q is not a whole number in decimal digits without sign or leading zeros", s)
	}
	return nil
}

// The reference resolves a struct's keys with the package's own field table (fieldsOf): the
// fuzz test compares how the two walk the bytes, and the table is the same code either way.

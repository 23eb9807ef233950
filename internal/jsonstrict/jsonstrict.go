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
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
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
// transactions do, with this package). Empty input is not Check's to refuse, and nothing
// after the first value is read: trailing data is Decode's to refuse.
//
// Every transaction the API takes passes through here twice (its envelope, then its body),
// so Check reads data once, byte by byte, against a plan of t made once per type, and
// allocates nothing unless a key is written with escapes, an object has many keys, or there
// is an error to report.
func Check(data []byte, t reflect.Type) error {
	s := scanner{data: data}
	s.skipSpace()
	if s.i == len(data) {
		return nil
	}
	err := s.value(planFor(t), 0)
	if v, ok := err.(*violation); ok {
		return v.wrap()
	}
	return err
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

// A plan is what Check needs to know of a Go type, worked out once by reflection.
type plan struct {
	kind   planKind
	elem   *plan                 // a map's values, a slice's or array's elements
	fields []planField           // a struct's JSON keys, sorted by name
	index  map[string]*planField // the same, for structs with many keys
}

type planKind uint8

const (
	opaque     planKind = iota // not known here: its objects are checked for duplicate keys only
	structPlan                 // keys are checked against fields
	mapPlan                    // any keys; values are elem's
	listPlan                   // elements are elem's
)

// planField is one JSON key of a struct.
type planField struct {
	name   string
	plan   *plan
	quoted quotedInt
}

// quotedInt says whether a field is an integer with the ",string" option, and which kind.
type quotedInt uint8

const (
	notQuoted quotedInt = iota
	quotedUnsigned
	quotedSigned
)

// indexFields is the number of struct fields above which a key is found through a map: below
// it, comparing with each name is quicker than hashing the key.
const indexFields = 8

// opaquePlan serves values whose type is not known (nil, interfaces, own decoding).
var opaquePlan = &plan{}

var planCache sync.Map // reflect.Type → *plan

// planFor returns the plan of values of type t (nil: of unknown type).
func planFor(t reflect.Type) *plan {
	if t == nil {
		return opaquePlan
	}
	if p, ok := planCache.Load(t); ok {
		return p.(*plan)
	}
	// Types refer to themselves (a struct with a slice of itself), so a plan is published
	// only when it and all it refers to are complete; goroutines that build one at once
	// build equal plans, and the first stored is kept.
	built := make(map[reflect.Type]*plan)
	p := buildPlan(t, built)
	for bt, bp := range built {
		planCache.LoadOrStore(bt, bp)
	}
	return p
}

// buildPlan makes the plan of t as the Token walk that preceded this scanner read values:
// pointers followed to what they point to, unless a pointer decodes itself; interfaces and
// types that decode themselves opaque; slices and arrays, maps and structs by their parts.
func buildPlan(t reflect.Type, built map[reflect.Type]*plan) *plan {
	if p, ok := built[t]; ok {
		return p
	}
	if p, ok := planCache.Load(t); ok {
		return p.(*plan)
	}
	u := t
	for u.Kind() == reflect.Pointer && !ownDecoding(u) {
		u = u.Elem()
	}
	if u.Kind() == reflect.Interface || ownDecoding(u) {
		built[t] = opaquePlan
		return opaquePlan
	}
	p := &plan{}
	built[t] = p // before its parts, which may lead back to t
	switch u.Kind() {
	case reflect.Slice, reflect.Array:
		p.kind, p.elem = listPlan, buildPlan(u.Elem(), built)
	case reflect.Map:
		p.kind, p.elem = mapPlan, buildPlan(u.Elem(), built)
	case reflect.Struct:
		p.kind = structPlan
		for name, f := range fieldsOf(u).exact {
			pf := planField{name: name, plan: buildPlan(f.typ, built)}
			if f.quoted {
				pf.quoted = quotedKind(f.typ)
			}
			p.fields = append(p.fields, pf)
		}
		// Sorted, so that of two names a key matches in another case the same is named.
		sort.Slice(p.fields, func(i, j int) bool { return p.fields[i].name < p.fields[j].name })
		if len(p.fields) > indexFields {
			p.index = make(map[string]*planField, len(p.fields))
			for i := range p.fields {
				p.index[p.fields[i].name] = &p.fields[i]
			}
		}
	}
	return p
}

// quotedKind is the check a ",string" field of type t needs: integers only (through
// pointers); encoding/json judges the rest.
func quotedKind(t reflect.Type) quotedInt {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return quotedSigned
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return quotedUnsigned
	}
	return notQuoted
}

// field returns the struct field named exactly key, or nil.
func (p *plan) field(key []byte) *planField {
	if p.index != nil {
		return p.index[string(key)]
	}
	for i := range p.fields {
		if p.fields[i].name == string(key) {
			return &p.fields[i]
		}
	}
	return nil
}

// foldedField returns the name of a struct field that key names only case-insensitively,
// with encoding/json's folding (which takes "ſ" for "s" and "K" for "k").
func (p *plan) foldedField(key []byte) (string, bool) {
	k := string(key)
	for _, f := range p.fields {
		if strings.EqualFold(f.name, k) {
			return f.name, true
		}
	}
	return "", false
}

// violation is a rule broken at path. It travels up the walk as an error, each level adding
// its key or index, so that no path is built unless there is an error to report; Check
// turns it into an ErrNotStrict.
type violation struct {
	path []pathElem // innermost first
	msg  string
}

type pathElem struct {
	key   string
	index int
	isKey bool
}

func (v *violation) Error() string { return v.msg }

// wrap words v as the Token walk did: `"items"[0]."amount": key written twice`.
func (v *violation) wrap() error {
	var b strings.Builder
	for i := len(v.path) - 1; i >= 0; i-- {
		e := v.path[i]
		if !e.isKey {
			fmt.Fprintf(&b, "[%d]", e.index)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.Quote(e.key))
	}
	path := b.String()
	if path == "" {
		path = "the body"
	}
	return fmt.Errorf("%w: %s: %s", ErrNotStrict, path, v.msg)
}

// keyViolation is a rule broken by the member with this key.
func keyViolation(key []byte, format string, args ...any) error {
	return &violation{path: []pathElem{{key: string(key), isKey: true}}, msg: fmt.Sprintf(format, args...)}
}

// within adds the member or element e to the path of a violation found inside it.
func within(err error, e pathElem) error {
	if v, ok := err.(*violation); ok {
		v.path = append(v.path, e)
	}
	return err
}

// scanner reads one JSON value.
type scanner struct {
	data []byte
	i    int // the next byte to read
}

func (s *scanner) skipSpace() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// syntaxError refuses data as malformed at s.i. encoding/json is asked to word it, so that
// the message reads as its others do; should it find nothing wrong (a mistake here), data
// is refused all the same.
func (s *scanner) syntaxError() error {
	var raw json.RawMessage
	if err := json.Unmarshal(s.data, &raw); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return err
		}
	}
	return fmt.Errorf("malformed JSON at byte %d", s.i)
}

// next reads what follows an element of an array or a member of an object: a comma (more
// follow) or closer (done).
func (s *scanner) next(closer byte) (done bool, err error) {
	s.skipSpace()
	switch {
	case s.i == len(s.data):
		return false, s.syntaxError()
	case s.data[s.i] == ',':
		s.i++
		return false, nil
	case s.data[s.i] == closer:
		s.i++
		return true, nil
	}
	return false, s.syntaxError()
}

// value checks the value at s.i (after any space), a value of p's type.
func (s *scanner) value(p *plan, depth int) error {
	s.skipSpace()
	if s.i == len(s.data) {
		return s.syntaxError()
	}
	switch c := s.data[s.i]; c {
	case '{', '[':
		if depth >= MaxDepth {
			return &violation{msg: fmt.Sprintf("nested deeper than %d levels", MaxDepth)}
		}
		s.i++
		if c == '{' {
			return s.object(p, depth)
		}
		return s.array(p, depth)
	case '"':
		_, _, err := s.str()
		return err
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		return s.number()
	}
}

// array checks the elements of an array whose '[' was read.
func (s *scanner) array(p *plan, depth int) error {
	elem := opaquePlan
	if p.kind == listPlan {
		elem = p.elem
	}
	s.skipSpace()
	if s.i < len(s.data) && s.data[s.i] == ']' {
		s.i++
		return nil
	}
	for n := 0; ; n++ {
		if err := s.value(elem, depth+1); err != nil {
			return within(err, pathElem{index: n})
		}
		if done, err := s.next(']'); done || err != nil {
			return err
		}
	}
}

// smallObject is the number of keys an object may have before its duplicates are looked for
// in a map rather than by comparing each key with those before it.
const smallObject = 16

// object checks the members of an object whose '{' was read.
func (s *scanner) object(p *plan, depth int) error {
	var small [smallObject][]byte // on the stack: most objects have few keys
	keys := small[:0]
	var many map[string]struct{}
	s.skipSpace()
	if s.i < len(s.data) && s.data[s.i] == '}' {
		s.i++
		return nil
	}
	for {
		s.skipSpace()
		if s.i == len(s.data) || s.data[s.i] != '"' {
			return s.syntaxError()
		}
		raw, flags, err := s.str()
		if err != nil {
			return err
		}
		key := text(raw, flags)
		if many != nil {
			if _, dup := many[string(key)]; dup {
				return keyViolation(key, "key written twice")
			}
			many[string(key)] = struct{}{}
		} else {
			for _, k := range keys {
				if bytes.Equal(k, key) {
					return keyViolation(key, "key written twice")
				}
			}
			if keys = append(keys, key); len(keys) > smallObject {
				many = make(map[string]struct{}, 2*len(keys))
				for _, k := range keys {
					many[string(k)] = struct{}{}
				}
			}
		}
		vp, quoted := opaquePlan, notQuoted
		switch p.kind {
		case structPlan:
			if f := p.field(key); f != nil {
				vp, quoted = f.plan, f.quoted
			} else if name, ok := p.foldedField(key); ok {
				return keyViolation(key, "no such key; the field is spelled %q (keys are case-sensitive)", name)
			}
		case mapPlan:
			vp = p.elem
		}
		s.skipSpace()
		if s.i == len(s.data) || s.data[s.i] != ':' {
			return s.syntaxError()
		}
		s.i++
		s.skipSpace()
		if quoted != notQuoted && s.i < len(s.data) && s.data[s.i] == '"' {
			raw, flags, err := s.str()
			if err != nil {
				return err
			}
			if msg := nonCanonical(text(raw, flags), quoted == quotedSigned); msg != "" {
				return keyViolation(key, "%s", msg)
			}
		} else if err := s.value(vp, depth+1); err != nil {
			return within(err, pathElem{key: string(key), isKey: true})
		}
		if done, err := s.next('}'); done || err != nil {
			return err
		}
	}
}

// nonCanonical says what is wrong with the string of an integer field with the ",string"
// option, "" if nothing: it must be the integer's one decimal form, digits without leading
// zeros, "-" only for a negative signed value.
func nonCanonical(s []byte, signed bool) string {
	digits := s
	if signed && len(s) > 0 && s[0] == '-' {
		digits = s[1:]
		if string(digits) == "0" {
			return fmt.Sprintf("%q: write zero as \"0\"", s)
		}
	}
	ok := len(digits) > 0 && (len(digits) == 1 || digits[0] != '0')
	for _, c := range digits {
		ok = ok && '0' <= c && c <= '9'
	}
	if !ok {
		return fmt.Sprintf("%q is not a whole number in decimal digits without sign or leading zeros", s)
	}
	return ""
}

// What a string's bytes hold besides plain ASCII.
const (
	escaped  = 1 << iota // a backslash
	nonASCII             // bytes of 0x80 and above, which may not be valid UTF-8
)

// str reads the string at s.i, checking it as encoding/json's scanner does (escapes, no
// control characters), and returns the bytes between its quotes with what they hold.
func (s *scanner) str() (raw []byte, flags int, err error) {
	d := s.data
	start := s.i + 1
	for i := start; i < len(d); i++ {
		// Most of a body is plain string bytes (hex, addresses, names): skip them in a
		// tight loop before asking what the next byte is.
		for i < len(d) && plain[d[i]] {
			i++
		}
		if i == len(d) {
			break
		}
		switch c := d[i]; {
		case c == '"':
			s.i = i + 1
			return d[start:i], flags, nil
		case c == '\\':
			flags |= escaped
			if i+1 == len(d) {
				s.i = i
				return nil, 0, s.syntaxError()
			}
			i++
			switch d[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(d) || !isHex(d[i+1]) || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) {
					s.i = i
					return nil, 0, s.syntaxError()
				}
				i += 4
			default:
				s.i = i
				return nil, 0, s.syntaxError()
			}
		case c < ' ':
			s.i = i
			return nil, 0, s.syntaxError()
		case c >= utf8.RuneSelf:
			flags |= nonASCII
		}
	}
	s.i = len(d)
	return nil, 0, s.syntaxError()
}

// plain holds the bytes that stand for themselves in a string: printable ASCII other than
// the quote and the backslash.
var plain = func() (t [256]bool) {
	for c := ' '; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// text is the string whose contents str returned as encoding/json reads it. Two keys are
// one key if their texts are equal, however each was written; a string of plain ASCII or
// valid UTF-8 without escapes is its own text and costs no copy.
func text(raw []byte, flags int) []byte {
	if flags == 0 || flags == nonASCII && utf8.Valid(raw) {
		return raw
	}
	return unquote(raw)
}

// unquote decodes the contents of a string that str has checked as encoding/json does:
// escapes decoded, and each byte that is not valid UTF-8 and each unpaired surrogate
// escape turned into U+FFFD (so "\ud800" and "\udc00" are the same key, as for
// encoding/json).
func unquote(raw []byte) []byte {
	b := make([]byte, 0, len(raw)+utf8.UTFMax)
	for r := 0; r < len(raw); {
		switch c := raw[r]; {
		case c == '\\':
			e := raw[r+1]
			r += 2
			switch e {
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				rr := hex4(raw[r:])
				r += 4
				if utf16.IsSurrogate(rr) {
					// A pair only if a low surrogate escape follows; else this one alone is
					// U+FFFD and what follows is read on its own.
					if r+6 <= len(raw) && raw[r] == '\\' && raw[r+1] == 'u' {
						if dec := utf16.DecodeRune(rr, hex4(raw[r+2:])); dec != unicode.ReplacementChar {
							b = utf8.AppendRune(b, dec)
							r += 6
							continue
						}
					}
					rr = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, rr)
			default: // '"', '\\', '/'
				b = append(b, e)
			}
		case c < utf8.RuneSelf:
			b = append(b, c)
			r++
		default:
			rr, size := utf8.DecodeRune(raw[r:])
			b = utf8.AppendRune(b, rr)
			r += size
		}
	}
	return b
}

// hex4 is the value of the four hex digits that start h (checked by str).
func hex4(h []byte) rune {
	var r rune
	for _, c := range h[:4] {
		switch {
		case c <= '9':
			c -= '0'
		case c <= 'F':
			c -= 'A' - 10
		default:
			c -= 'a' - 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// literal checks that true, false or null is at s.i.
func (s *scanner) literal(word string) error {
	end := s.i + len(word)
	if end > len(s.data) || string(s.data[s.i:end]) != word {
		return s.syntaxError()
	}
	s.i = end
	return nil
}

// number checks the number at s.i: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?. What
// follows it is the caller's to judge.
func (s *scanner) number() error {
	d, i := s.data, s.i
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		for i++; i < len(d) && isDigit(d[i]); i++ {
		}
	default:
		s.i = i
		return s.syntaxError()
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i == len(d) || !isDigit(d[i]) {
			s.i = i
			return s.syntaxError()
		}
		for ; i < len(d) && isDigit(d[i]); i++ {
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i == len(d) || !isDigit(d[i]) {
			s.i = i
			return s.syntaxError()
		}
		for ; i < len(d) && isDigit(d[i]); i++ {
		}
	}
	s.i = i
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

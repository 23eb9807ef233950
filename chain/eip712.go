package chain

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/crypto"
)

// Transactions are signed as EIP-712 typed data (https://eips.ethereum.org/EIPS/eip-712), so
// any Ethereum wallet can sign them with eth_signTypedData_v4. The types are fixed, so instead
// of go-ethereum's generic, reflection-driven apitypes (slower by a multiple; BENCHMARKS.md)
// each kind is hashed by hand-written code: type hashes are computed once, a pooled Keccak
// state is reused, program symbols' hashes are memoised, and no big.Int, map or allocation is on the path. What remains
// is the Keccak permutations EIP-712 itself requires (a transfer with a memo: four).
// eip712_test.go cross-checks every kind against apitypes.
//
// This file is the machinery: the domain, the hasher and its primitives, the typed-data JSON.
// A kind's own part is in its kind_<name>.go: its struct types (eip712Structs), its struct
// hash (hashStruct) and its typed-data message (typedData), all in one field order. The table
// eip712Types collects the types and is the single source of the definitions: the type hashes,
// TypedDataJSON and EIP712Types derive from it; the tests check it against the spec strings of
// docs/signing.md and against the Go payload structs, and a hand-written hash that strays from
// its type's field order fails the cross-check against apitypes.

// Domain name and version of Loyal's EIP-712 domain. Changing either makes every signature
// invalid, so they are constants of the protocol.
const (
	EIP712DomainName    = "Loyal"
	EIP712DomainVersion = "1"
)

// EIP712Field is one member of an EIP-712 struct type, in the {"name","type"} shape wallets
// expect in the "types" object of eth_signTypedData_v4.
type EIP712Field struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// eip712Struct is one EIP-712 struct type: its name and its fields, in order.
type eip712Struct struct {
	name   string
	fields []EIP712Field
}

// txStruct is a kind's primary type: every transaction message starts with nonce and
// validUntil, then the payload's fields.
func txStruct(name string, fields []EIP712Field) eip712Struct {
	return eip712Struct{name, append([]EIP712Field{{"nonce", "uint64"}, {"validUntil", "uint64"}}, fields...)}
}

// eip712Types holds every struct type, keyed by name: EIP712Domain, the types several kinds
// share (policyStructs) and each kind's own (Payload.eip712Structs). Field order is
// significant. A name defined twice is a bug that would sign one of the two definitions under
// the other's type hash, so it stops the program at start.
var eip712Types = func() map[string][]EIP712Field {
	all := []eip712Struct{{"EIP712Domain", []EIP712Field{
		{"name", "string"}, {"version", "string"}, {"chainId", "uint256"}, {"salt", "bytes32"},
	}}}
	all = append(all, policyStructs...)
	for _, k := range Kinds {
		all = append(all, kinds[k].structs...)
	}
	types := make(map[string][]EIP712Field, len(all))
	for _, t := range all {
		if _, dup := types[t.name]; dup {
			panic("chain: EIP-712 type " + t.name + " defined twice")
		}
		types[t.name] = t.fields
	}
	return types
}()

// PrimaryType returns the EIP-712 primary type of a transaction kind ("Transfer" for
// KindTransfer), or "" for an unknown kind. Wallets need it next to the types to sign.
func PrimaryType(k Kind) string {
	if int(k) < len(kinds) {
		return kinds[k].primary
	}
	return ""
}

// EIP712Types returns every EIP-712 type definition of Loyal, EIP712Domain included, keyed by
// type name — the "types" object of eth_signTypedData_v4 for any kind (a wallet ignores the
// types a message does not reference). The node publishes it at GET /v1/eip712 (see
// Domain.Spec). The result is a fresh copy the caller may modify.
func EIP712Types() map[string][]EIP712Field {
	out := make(map[string][]EIP712Field, len(eip712Types))
	for name, fields := range eip712Types {
		out[name] = slices.Clone(fields)
	}
	return out
}

// eip712Deps returns the struct types that name references, directly or not, sorted by name
// (the order EIP-712's encodeType appends them in), excluding name itself.
func eip712Deps(name string) []string {
	var found []string
	var walk func(string)
	walk = func(t string) {
		for _, f := range eip712Types[t] {
			ft := strings.TrimSuffix(f.Type, "[]")
			if _, ok := eip712Types[ft]; ok && ft != name && !slices.Contains(found, ft) {
				found = append(found, ft)
				walk(ft)
			}
		}
	}
	walk(name)
	slices.Sort(found)
	return found
}

// eip712EncodeType is EIP-712's encodeType: the type's own definition followed by those of
// the struct types it references, sorted by name.
func eip712EncodeType(name string) string {
	var b strings.Builder
	for _, t := range append([]string{name}, eip712Deps(name)...) {
		b.WriteString(t)
		b.WriteByte('(')
		for i, f := range eip712Types[t] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(f.Type)
			b.WriteByte(' ')
			b.WriteString(f.Name)
		}
		b.WriteByte(')')
	}
	return b.String()
}

// Type hashes, computed once from the table.
var (
	typeHashDomain = crypto.Keccak256Hash([]byte(eip712EncodeType("EIP712Domain")))
	typeHashKind   = func() (h [len(kinds)]Hash) {
		for _, k := range Kinds {
			h[k] = crypto.Keccak256Hash([]byte(eip712EncodeType(kinds[k].primary)))
		}
		return h
	}()

	hashDomainName    = crypto.Keccak256Hash([]byte(EIP712DomainName))
	hashDomainVersion = crypto.Keccak256Hash([]byte(EIP712DomainVersion))
	hashEmptyString   = crypto.Keccak256Hash(nil) // also the hash of an empty array
)

// Domain is Loyal's EIP-712 domain for one network: name "Loyal", version "1", the chain id,
// and the genesis hash as salt, so two networks that share a chain id cannot replay each
// other's transactions. Its JSON form is the "domain" object of eth_signTypedData_v4.
type Domain struct {
	ChainID uint64
	Salt    Hash // the genesis hash
}

// Separator is the EIP-712 domain separator, hashStruct(EIP712Domain). A Signer computes it
// once; this method exists for wallets, tools and tests.
func (d Domain) Separator() Hash {
	var buf [5 * 32]byte
	copy(buf[0:], typeHashDomain[:])
	copy(buf[32:], hashDomainName[:])
	copy(buf[64:], hashDomainVersion[:])
	binary.BigEndian.PutUint64(buf[96+24:], d.ChainID)
	copy(buf[128:], d.Salt[:])
	return crypto.Keccak256Hash(buf[:])
}

// maxSafeJSONInt is the largest integer a JavaScript number holds exactly (2^53 − 1).
const maxSafeJSONInt = 1<<53 - 1

// domainJSON is the wire form of Domain.
type domainJSON struct {
	Name    string          `json:"name"`
	Version string          `json:"version"`
	ChainID json.RawMessage `json:"chainId"`
	Salt    Hash            `json:"salt"`
}

// MarshalJSON writes the eth_signTypedData_v4 domain object:
// {"name":"Loyal","version":"1","chainId":7331,"salt":"0x…"}. The chain id is a JSON number,
// as wallets expect, unless it exceeds 2^53 − 1, where it becomes a decimal string so that
// JavaScript cannot round it.
func (d Domain) MarshalJSON() ([]byte, error) {
	return json.Marshal(domainJSON{
		Name:    EIP712DomainName,
		Version: EIP712DomainVersion,
		ChainID: chainIDJSON(d.ChainID),
		Salt:    d.Salt,
	})
}

func chainIDJSON(id uint64) json.RawMessage {
	s := strconv.FormatUint(id, 10)
	if id > maxSafeJSONInt {
		s = `"` + s + `"`
	}
	return json.RawMessage(s)
}

// UnmarshalJSON reads the domain object MarshalJSON writes (chainId as a number or a decimal
// string) and rejects any other name or version, so a client cannot silently sign for a
// domain the node does not verify.
func (d *Domain) UnmarshalJSON(b []byte) error {
	var v domainJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("%w: eip-712 domain: %v", ErrMalformed, err)
	}
	if v.Name != EIP712DomainName || v.Version != EIP712DomainVersion {
		return rejectf(ErrMalformed, "eip-712 domain %q version %q, want %q version %q",
			v.Name, v.Version, EIP712DomainName, EIP712DomainVersion)
	}
	raw := strings.Trim(string(v.ChainID), `"`)
	id, err := strconv.ParseUint(raw, 10, 64)
	if err != nil {
		return rejectf(ErrMalformed, "eip-712 domain chainId %s", v.ChainID)
	}
	*d = Domain{ChainID: id, Salt: v.Salt}
	return nil
}

// EIP712Spec is what a node publishes at GET /v1/eip712: everything a wallet or another
// implementation needs to build and sign a transaction of this network, besides the message.
type EIP712Spec struct {
	Domain Domain `json:"domain"`
	// PrimaryTypes maps each kind's name (as in Kind.String, e.g. "transfer") to its primary type.
	PrimaryTypes map[string]string `json:"primaryTypes"`
	// Types holds every type definition, EIP712Domain included (see EIP712Types).
	Types map[string][]EIP712Field `json:"types"`
}

// Spec returns the EIP-712 specification of the domain's network, for GET /v1/eip712.
func (d Domain) Spec() EIP712Spec {
	pt := make(map[string]string, len(Kinds))
	for _, k := range Kinds {
		pt[k.String()] = PrimaryType(k)
	}
	return EIP712Spec{Domain: d, PrimaryTypes: pt, Types: EIP712Types()}
}

// ---------------------------------------------------------------------------------------
// Hashing.

// hasher computes EIP-712 hashes with reusable state: no allocation once warm. It is not
// safe for concurrent use; hasherPool hands one to each caller.
type hasher struct {
	k    crypto.KeccakState // hashes strings and structs
	arr  crypto.KeccakState // accumulates an array's element hashes while k hashes the elements
	buf  []byte             // encodeData of the struct being hashed
	sbuf []byte             // a string's bytes (KeccakState has no WriteString)
	word [32]byte           // one 32-byte word of an address array
	out  [32]byte           // Keccak output; a field so that no local escapes through the interface
}

var hasherPool = sync.Pool{New: func() any {
	return &hasher{
		k:    crypto.NewKeccakState(),
		arr:  crypto.NewKeccakState(),
		buf:  make([]byte, 0, 10*32),
		sbuf: make([]byte, 0, 64),
	}
}}

func getHasher() *hasher  { return hasherPool.Get().(*hasher) }
func putHasher(h *hasher) { hasherPool.Put(h) }

// sum returns keccak256(b), using k.
func (h *hasher) sum(b []byte) Hash {
	h.k.Reset()
	h.k.Write(b)
	h.k.Read(h.out[:])
	return Hash(h.out)
}

// str returns the EIP-712 encoding of a string: keccak256 of its UTF-8 bytes. Uses k and sbuf.
func (h *hasher) str(s string) Hash {
	if s == "" {
		return hashEmptyString
	}
	h.sbuf = append(h.sbuf[:0], s...)
	return h.sum(h.sbuf)
}

// symbolCache memoises the hashes of program symbols, which recur in almost every
// transaction: a hit saves one Keccak permutation, a large share of a transfer's digest when
// its memo is empty (BENCHMARKS.md). It is direct-mapped and lock-free: a slot holds an immutable entry that is
// replaced whole, and a hit compares the full symbol, so a collision costs only a miss.
// Symbols that others make up to thrash it cost them nothing but the normal hashing.
var symbolCache [1024]atomic.Pointer[symbolEntry]

type symbolEntry struct {
	sym  string
	hash Hash
}

// symbol returns str(s), through symbolCache for anything symbol-sized.
func (h *hasher) symbol(s string) Hash {
	if len(s) == 0 || len(s) > MaxSymbolLen {
		return h.str(s)
	}
	i := uint32(2166136261) // FNV-1a
	for j := 0; j < len(s); j++ {
		i = (i ^ uint32(s[j])) * 16777619
	}
	slot := &symbolCache[i%uint32(len(symbolCache))]
	if e := slot.Load(); e != nil && e.sym == s {
		return e.hash
	}
	x := h.str(s)
	slot.Store(&symbolEntry{sym: strings.Clone(s), hash: x})
	return x
}

// Appending 32-byte words to an encodeData buffer.

func appendHash(b []byte, x Hash) []byte { return append(b, x[:]...) }

func appendUint(b []byte, v uint64) []byte {
	var w [32]byte
	binary.BigEndian.PutUint64(w[24:], v)
	return append(b, w[:]...)
}

func appendBool(b []byte, v bool) []byte {
	var w [32]byte
	if v {
		w[31] = 1
	}
	return append(b, w[:]...)
}

func appendAddress(b []byte, a Address) []byte {
	var w [32]byte
	copy(w[12:], a[:])
	return append(b, w[:]...)
}

// structArray hashes an array of structs: keccak256 of hashStruct of each element, whose
// encodeData elem writes to buf (using k and sbuf as it likes, never arr). Uses everything
// but the caller's buf contents, so call it before assembling the enclosing struct. elem is a
// method expression, not a closure, so that nothing is allocated.
func structArray[T any](h *hasher, xs []T, elem func(h *hasher, x *T)) Hash {
	if len(xs) == 0 {
		return hashEmptyString
	}
	h.arr.Reset()
	for i := range xs {
		elem(h, &xs[i])
		h.sum(h.buf)
		h.arr.Write(h.out[:])
	}
	h.arr.Read(h.out[:])
	return Hash(h.out)
}

// begin starts the encodeData of a transaction message: type hash, nonce, validUntil.
func (h *hasher) begin(k Kind, tx *Tx) {
	h.buf = appendHash(h.buf[:0], typeHashKind[k])
	h.buf = appendUint(h.buf, tx.Nonce)
	h.buf = appendUint(h.buf, tx.ValidUntil)
}

// message is hashStruct of the transaction's message.
func (h *hasher) message(tx *Tx) (Hash, error) {
	p := tx.Payload
	if p == nil {
		return Hash{}, rejectf(ErrMalformed, "transaction has no payload")
	}
	if isNilPayload(p) {
		return Hash{}, rejectf(ErrMalformed, "transaction has a nil %T payload", p)
	}
	p.hashStruct(h, tx)
	return h.sum(h.buf), nil
}

// typedDigest is keccak256(0x19 0x01 ‖ separator ‖ structHash).
func (h *hasher) typedDigest(sep, structHash Hash) Hash {
	h.buf = append(h.buf[:0], 0x19, 0x01)
	h.buf = append(h.buf, sep[:]...)
	h.buf = append(h.buf, structHash[:]...)
	return h.sum(h.buf)
}

// structHash returns hashStruct(message) of tx.
func structHash(tx *Tx) (Hash, error) {
	h := getHasher()
	defer putHasher(h)
	return h.message(tx)
}

// digest returns the EIP-712 signing digest of tx under the domain separator sep.
func digest(sep Hash, tx *Tx) (Hash, error) {
	h := getHasher()
	m, err := h.message(tx)
	if err != nil {
		putHasher(h)
		return Hash{}, err
	}
	d := h.typedDigest(sep, m)
	putHasher(h)
	return d, nil
}

// ---------------------------------------------------------------------------------------
// Typed-data JSON.

// jsonObject is a JSON object that keeps its keys in order, so that TypedDataJSON lists a
// message's fields in type order, as people reading it in a wallet expect.
type jsonObject []jsonMember

type jsonMember struct {
	key string
	val any
}

// MarshalJSON implements json.Marshaler.
func (o jsonObject) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := writeJSON(&b, m.key); err != nil {
			return nil, err
		}
		b.WriteByte(':')
		if err := writeJSON(&b, m.val); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// writeJSON appends v as compact JSON without HTML escaping (a memo "<3" stays readable).
func writeJSON(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}

// typedDataBuilder collects the message's JSON values and the first invalid string.
type typedDataBuilder struct{ err error }

func (t *typedDataBuilder) str(field, s string) string {
	if t.err == nil && !utf8.ValidString(s) {
		// JSON cannot carry invalid UTF-8 (it would become U+FFFD and change the digest).
		t.err = rejectf(ErrMalformed, "%s is not valid UTF-8", field)
	}
	return s
}

func u64JSON(v uint64) string { return strconv.FormatUint(v, 10) }

// message is the typed-data message of tx: nonce and validUntil, then the payload's fields.
func (t *typedDataBuilder) message(tx *Tx) (jsonObject, error) {
	p := tx.Payload
	if p == nil || isNilPayload(p) {
		return nil, rejectf(ErrMalformed, "transaction has no payload")
	}
	m := jsonObject{{"nonce", u64JSON(tx.Nonce)}, {"validUntil", u64JSON(tx.ValidUntil)}}
	m = append(m, p.typedData(t)...)
	return m, t.err
}

// TypedDataJSON returns the eth_signTypedData_v4 request body for tx under d: "types" (the
// primary type, the struct types it references and EIP712Domain), "primaryType", "domain"
// and "message". Any Ethereum wallet can sign it; the resulting signature is what Sign
// produces. In the message, uint64 values are decimal strings (JavaScript numbers cannot hold
// them), uint32 day counts are JSON numbers, addresses are EIP-55 hex and booleans are JSON
// booleans. The chain id is in the domain, not the message. It fails with ErrMalformed if tx
// has no payload or a string that is not valid UTF-8.
func TypedDataJSON(d Domain, tx *Tx) ([]byte, error) {
	if tx == nil || tx.Payload == nil {
		return nil, rejectf(ErrMalformed, "transaction has no payload")
	}
	primary := PrimaryType(tx.Payload.Kind())
	var t typedDataBuilder
	msg, err := t.message(tx)
	if err != nil {
		return nil, err
	}
	types := map[string][]EIP712Field{
		"EIP712Domain": eip712Types["EIP712Domain"],
		primary:        eip712Types[primary],
	}
	for _, dep := range eip712Deps(primary) {
		types[dep] = eip712Types[dep]
	}
	var b bytes.Buffer
	err = writeJSON(&b, jsonObject{
		{"types", types},
		{"primaryType", primary},
		{"domain", d},
		{"message", msg},
	})
	if err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

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
// of go-ethereum's generic, reflection-driven apitypes (~8 µs a digest) this file hashes each
// kind with hand-written code: type hashes are computed once, a pooled Keccak state is reused,
// program symbols' hashes are memoised, and no big.Int, map or allocation is on the path. What
// remains is the Keccak permutations EIP-712 itself requires (a transfer with a memo: four).
// eip712_test.go cross-checks every kind against apitypes.
//
// The one table below (eip712Types) is the single source of the type definitions: the type
// hashes, TypedDataJSON and EIP712Types derive from it; the tests check it against the spec
// strings of docs/signing.md and against the Go payload structs. The hand-written hashing follows the same field order; changing either without the
// other fails the cross-check tests.

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

// eip712Types holds every struct type, EIP712Domain included. Field order is significant.
var eip712Types = map[string][]EIP712Field{
	"EIP712Domain": {{"name", "string"}, {"version", "string"}, {"chainId", "uint256"}, {"salt", "bytes32"}},
	"RegisterProgram": {{"nonce", "uint64"}, {"validUntil", "uint64"},
		{"symbol", "string"}, {"name", "string"}, {"policy", "Policy"}, {"operators", "address[]"}},
	"UpdateProgram": {{"nonce", "uint64"}, {"validUntil", "uint64"},
		{"program", "string"}, {"setPolicy", "bool"}, {"policy", "Policy"}, {"setOperators", "bool"},
		{"operators", "address[]"}, {"newOwner", "address"}, {"retire", "bool"}},
	"Earn": {{"nonce", "uint64"}, {"validUntil", "uint64"},
		{"program", "string"}, {"credits", "Credit[]"}},
	"Reverse": {{"nonce", "uint64"}, {"validUntil", "uint64"},
		{"program", "string"}, {"orderRef", "string"}, {"amount", "uint64"}},
	"Transfer": {{"nonce", "uint64"}, {"validUntil", "uint64"},
		{"program", "string"}, {"to", "address"}, {"amount", "uint64"}, {"memo", "string"}},
	"Redeem": {{"nonce", "uint64"}, {"validUntil", "uint64"},
		{"program", "string"}, {"amount", "uint64"}, {"rewardRef", "string"}},
	"SetRate": {{"nonce", "uint64"}, {"validUntil", "uint64"},
		{"from", "string"}, {"to", "string"}, {"numerator", "uint64"}, {"denominator", "uint64"}, {"dailyCap", "uint64"}},
	"Exchange": {{"nonce", "uint64"}, {"validUntil", "uint64"},
		{"from", "string"}, {"to", "string"}, {"amount", "uint64"}, {"minOut", "uint64"}},
	"Settle": {{"nonce", "uint64"}, {"validUntil", "uint64"},
		{"program", "string"}, {"counterparty", "string"}, {"amount", "uint64"}},
	"Policy": {{"pendingDays", "uint32"}, {"expiryDays", "uint32"}, {"tierWindowDays", "uint32"}, {"tiers", "Tier[]"}},
	"Tier":   {{"name", "string"}, {"threshold", "uint64"}},
	"Credit": {{"to", "address"}, {"amount", "uint64"}, {"orderRef", "string"}},
}

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
	typeHashPolicy = crypto.Keccak256Hash([]byte(eip712EncodeType("Policy")))
	typeHashTier   = crypto.Keccak256Hash([]byte(eip712EncodeType("Tier")))
	typeHashCredit = crypto.Keccak256Hash([]byte(eip712EncodeType("Credit")))
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
// transaction: a hit saves one Keccak permutation (~40% of a transfer's digest when its memo
// is empty). It is direct-mapped and lock-free: a slot holds an immutable entry that is
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

// addresses hashes an address[]: keccak256 of the addresses, each left-padded to 32 bytes.
// Uses k and word.
func (h *hasher) addresses(as []Address) Hash {
	if len(as) == 0 {
		return hashEmptyString
	}
	h.k.Reset()
	for i := range as {
		copy(h.word[12:], as[i][:])
		h.k.Write(h.word[:])
	}
	h.k.Read(h.out[:])
	return Hash(h.out)
}

// tiers hashes a Tier[]: keccak256 of hashStruct of each tier. Uses everything but the
// caller's buf contents, so call it before assembling the enclosing struct.
func (h *hasher) tiers(ts []Tier) Hash {
	if len(ts) == 0 {
		return hashEmptyString
	}
	h.arr.Reset()
	for i := range ts {
		name := h.str(ts[i].Name)
		h.buf = appendHash(h.buf[:0], typeHashTier)
		h.buf = appendHash(h.buf, name)
		h.buf = appendUint(h.buf, ts[i].Threshold)
		h.sum(h.buf)
		h.arr.Write(h.out[:])
	}
	h.arr.Read(h.out[:])
	return Hash(h.out)
}

// policy is hashStruct(Policy). Uses buf: call it before assembling the enclosing struct.
func (h *hasher) policy(p *Policy) Hash {
	tiers := h.tiers(p.Tiers)
	h.buf = appendHash(h.buf[:0], typeHashPolicy)
	h.buf = appendUint(h.buf, uint64(p.PendingDays))
	h.buf = appendUint(h.buf, uint64(p.ExpiryDays))
	h.buf = appendUint(h.buf, uint64(p.TierWindowDays))
	h.buf = appendHash(h.buf, tiers)
	return h.sum(h.buf)
}

// credits hashes a Credit[]: keccak256 of hashStruct of each credit.
func (h *hasher) credits(cs []Credit) Hash {
	if len(cs) == 0 {
		return hashEmptyString
	}
	h.arr.Reset()
	for i := range cs {
		ref := h.str(cs[i].OrderRef)
		h.buf = appendHash(h.buf[:0], typeHashCredit)
		h.buf = appendAddress(h.buf, cs[i].To)
		h.buf = appendUint(h.buf, cs[i].Amount)
		h.buf = appendHash(h.buf, ref)
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

// message is hashStruct of the transaction's message. Nested hashes are computed before
// begin, because they reuse buf.
func (h *hasher) message(tx *Tx) (Hash, error) {
	h.buf = h.buf[:0] // stays empty if the payload is a nil pointer
	switch p := tx.Payload.(type) {
	case *Transfer:
		if p == nil {
			break
		}
		program, memo := h.symbol(p.Program), h.str(p.Memo)
		h.begin(KindTransfer, tx)
		h.buf = appendHash(h.buf, program)
		h.buf = appendAddress(h.buf, p.To)
		h.buf = appendUint(h.buf, p.Amount)
		h.buf = appendHash(h.buf, memo)
	case *Earn:
		if p == nil {
			break
		}
		program, credits := h.symbol(p.Program), h.credits(p.Credits)
		h.begin(KindEarn, tx)
		h.buf = appendHash(h.buf, program)
		h.buf = appendHash(h.buf, credits)
	case *Redeem:
		if p == nil {
			break
		}
		program, ref := h.symbol(p.Program), h.str(p.RewardRef)
		h.begin(KindRedeem, tx)
		h.buf = appendHash(h.buf, program)
		h.buf = appendUint(h.buf, p.Amount)
		h.buf = appendHash(h.buf, ref)
	case *Reverse:
		if p == nil {
			break
		}
		program, ref := h.symbol(p.Program), h.str(p.OrderRef)
		h.begin(KindReverse, tx)
		h.buf = appendHash(h.buf, program)
		h.buf = appendHash(h.buf, ref)
		h.buf = appendUint(h.buf, p.Amount)
	case *Exchange:
		if p == nil {
			break
		}
		from, to := h.symbol(p.From), h.symbol(p.To)
		h.begin(KindExchange, tx)
		h.buf = appendHash(h.buf, from)
		h.buf = appendHash(h.buf, to)
		h.buf = appendUint(h.buf, p.Amount)
		h.buf = appendUint(h.buf, p.MinOut)
	case *SetRate:
		if p == nil {
			break
		}
		from, to := h.symbol(p.From), h.symbol(p.To)
		h.begin(KindSetRate, tx)
		h.buf = appendHash(h.buf, from)
		h.buf = appendHash(h.buf, to)
		h.buf = appendUint(h.buf, p.Numerator)
		h.buf = appendUint(h.buf, p.Denominator)
		h.buf = appendUint(h.buf, p.DailyCap)
	case *Settle:
		if p == nil {
			break
		}
		program, cp := h.symbol(p.Program), h.symbol(p.Counterparty)
		h.begin(KindSettle, tx)
		h.buf = appendHash(h.buf, program)
		h.buf = appendHash(h.buf, cp)
		h.buf = appendUint(h.buf, p.Amount)
	case *RegisterProgram:
		if p == nil {
			break
		}
		symbol, name := h.symbol(p.Symbol), h.str(p.Name)
		policy, ops := h.policy(&p.Policy), h.addresses(p.Operators)
		h.begin(KindRegisterProgram, tx)
		h.buf = appendHash(h.buf, symbol)
		h.buf = appendHash(h.buf, name)
		h.buf = appendHash(h.buf, policy)
		h.buf = appendHash(h.buf, ops)
	case *UpdateProgram:
		if p == nil {
			break
		}
		program := h.symbol(p.Program)
		policy, ops := h.policy(&p.Policy), h.addresses(p.Operators)
		h.begin(KindUpdateProgram, tx)
		h.buf = appendHash(h.buf, program)
		h.buf = appendBool(h.buf, p.SetPolicy)
		h.buf = appendHash(h.buf, policy)
		h.buf = appendBool(h.buf, p.SetOperators)
		h.buf = appendHash(h.buf, ops)
		h.buf = appendAddress(h.buf, p.NewOwner)
		h.buf = appendBool(h.buf, p.Retire)
	default:
		return Hash{}, rejectf(ErrMalformed, "transaction has no payload")
	}
	if len(h.buf) == 0 {
		return Hash{}, rejectf(ErrMalformed, "transaction has a nil %T payload", tx.Payload)
	}
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

func addressesJSON(as []Address) []string {
	out := make([]string, len(as)) // never nil: EIP-712 arrays must be [] not null
	for i, a := range as {
		out[i] = a.Hex()
	}
	return out
}

func (t *typedDataBuilder) policy(p *Policy) jsonObject {
	tiers := make([]jsonObject, len(p.Tiers))
	for i, tr := range p.Tiers {
		tiers[i] = jsonObject{{"name", t.str("tier name", tr.Name)}, {"threshold", u64JSON(tr.Threshold)}}
	}
	return jsonObject{
		{"pendingDays", p.PendingDays},
		{"expiryDays", p.ExpiryDays},
		{"tierWindowDays", p.TierWindowDays},
		{"tiers", tiers},
	}
}

func (t *typedDataBuilder) message(tx *Tx) (jsonObject, error) {
	m := jsonObject{{"nonce", u64JSON(tx.Nonce)}, {"validUntil", u64JSON(tx.ValidUntil)}}
	switch p := tx.Payload.(type) {
	case *RegisterProgram:
		if p == nil {
			break
		}
		m = append(m, jsonObject{
			{"symbol", t.str("symbol", p.Symbol)},
			{"name", t.str("name", p.Name)},
			{"policy", t.policy(&p.Policy)},
			{"operators", addressesJSON(p.Operators)},
		}...)
		return m, t.err
	case *UpdateProgram:
		if p == nil {
			break
		}
		m = append(m, jsonObject{
			{"program", t.str("program", p.Program)},
			{"setPolicy", p.SetPolicy},
			{"policy", t.policy(&p.Policy)},
			{"setOperators", p.SetOperators},
			{"operators", addressesJSON(p.Operators)},
			{"newOwner", p.NewOwner.Hex()},
			{"retire", p.Retire},
		}...)
		return m, t.err
	case *Earn:
		if p == nil {
			break
		}
		credits := make([]jsonObject, len(p.Credits))
		for i, c := range p.Credits {
			credits[i] = jsonObject{
				{"to", c.To.Hex()},
				{"amount", u64JSON(c.Amount)},
				{"orderRef", t.str("order_ref", c.OrderRef)},
			}
		}
		m = append(m, jsonObject{{"program", t.str("program", p.Program)}, {"credits", credits}}...)
		return m, t.err
	case *Reverse:
		if p == nil {
			break
		}
		m = append(m, jsonObject{
			{"program", t.str("program", p.Program)},
			{"orderRef", t.str("order_ref", p.OrderRef)},
			{"amount", u64JSON(p.Amount)},
		}...)
		return m, t.err
	case *Transfer:
		if p == nil {
			break
		}
		m = append(m, jsonObject{
			{"program", t.str("program", p.Program)},
			{"to", p.To.Hex()},
			{"amount", u64JSON(p.Amount)},
			{"memo", t.str("memo", p.Memo)},
		}...)
		return m, t.err
	case *Redeem:
		if p == nil {
			break
		}
		m = append(m, jsonObject{
			{"program", t.str("program", p.Program)},
			{"amount", u64JSON(p.Amount)},
			{"rewardRef", t.str("reward_ref", p.RewardRef)},
		}...)
		return m, t.err
	case *SetRate:
		if p == nil {
			break
		}
		m = append(m, jsonObject{
			{"from", t.str("from", p.From)},
			{"to", t.str("to", p.To)},
			{"numerator", u64JSON(p.Numerator)},
			{"denominator", u64JSON(p.Denominator)},
			{"dailyCap", u64JSON(p.DailyCap)},
		}...)
		return m, t.err
	case *Exchange:
		if p == nil {
			break
		}
		m = append(m, jsonObject{
			{"from", t.str("from", p.From)},
			{"to", t.str("to", p.To)},
			{"amount", u64JSON(p.Amount)},
			{"minOut", u64JSON(p.MinOut)},
		}...)
		return m, t.err
	case *Settle:
		if p == nil {
			break
		}
		m = append(m, jsonObject{
			{"program", t.str("program", p.Program)},
			{"counterparty", t.str("counterparty", p.Counterparty)},
			{"amount", u64JSON(p.Amount)},
		}...)
		return m, t.err
	}
	return nil, rejectf(ErrMalformed, "transaction has no payload")
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

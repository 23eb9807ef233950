package chain

import "fmt"

// The registry of transaction kinds. Everything about a kind lives in two files:
// kind_<name>.go holds its payload struct, kind number, binary encoding, stateless check,
// EIP-712 types, struct hash and typed-data message, and apply_<name>.go its state
// transition. The generic code (tx.go, txjson.go, eip712.go, apply.go) reaches a kind only
// through the table below and the Payload methods, never through a switch over kinds, so
// adding a kind is its two files and one line in the table, plus its EIP-712 types in
// docs/signing.md, its golden signing vector and its test cases
// (docs/adr/0004-transaction-kinds.md has the checklist).

// Kind names a transaction kind. The numeric values are part of the encoding: never reuse one.
type Kind uint8

// Payload is the kind-specific body of a transaction. It is implemented by the pointer types
// of the kinds in the registry (*Transfer, *Earn, ...), and by nothing else: its unexported
// methods seal it.
type Payload interface {
	Kind() Kind
	encode(e *encoder)
	decode(d *decoder)
	// check is the stateless validation: everything that can be known without state.
	check() error

	// eip712Structs lists the kind's EIP-712 struct types: its primary type first (built by
	// txStruct), then any struct type that only this kind uses. The registry calls it once.
	eip712Structs() []eip712Struct
	// hashStruct writes the encodeData of the kind's message to h.buf: the hashes of nested
	// strings, arrays and structs first (they reuse h.buf), then h.begin and the fields in
	// type order. The receiver is never nil.
	hashStruct(h *hasher, tx *Tx)
	// typedData is the message's fields after nonce and validUntil, in type order, for
	// TypedDataJSON. Strings go through t.str. The receiver is never nil.
	typedData(t *typedDataBuilder) jsonObject

	// apply is the kind's state transition (in apply_<name>.go), called by State.ApplyTx once
	// the payload's check, the chain id, the size, the validity and the nonce have passed. It
	// returns the ledger entries it produced; on error State discards what it changed.
	apply(s *State, sender Address) ([]Entry, error)
}

// kindInfo is what the generic code knows of a kind besides its Payload methods.
type kindInfo struct {
	name    string         // Kind.String, ParseKind and the "kind" of the JSON form
	new     func() Payload // a zero payload to decode into
	null    Payload        // the kind's nil pointer, which has no message to hash
	structs []eip712Struct // the kind's EIP-712 struct types, its primary type first
	primary string         // the EIP-712 primary type, structs[0]'s name
	since   Version        // the protocol version from which the kind applies (ADR 0005)
}

// kinds is the registry, indexed by Kind: one line per kind, with the protocol version from
// which it applies (a block executed under an earlier version refuses it as unknown_kind). A
// number given twice does not compile, so two kinds cannot share one; a retired kind's line
// becomes a comment, and its number is never given again.
var kinds = [...]kindInfo{
	KindRegisterProgram:  kindOf[RegisterProgram]("register_program", Version1),
	KindUpdateProgram:    kindOf[UpdateProgram]("update_program", Version1),
	KindEarn:             kindOf[Earn]("earn", Version1),
	KindReverse:          kindOf[Reverse]("reverse", Version1),
	KindTransfer:         kindOf[Transfer]("transfer", Version1),
	KindRedeem:           kindOf[Redeem]("redeem", Version1),
	KindSetRate:          kindOf[SetRate]("set_rate", Version1),
	KindExchange:         kindOf[Exchange]("exchange", Version1),
	KindSettle:           kindOf[Settle]("settle", Version1),
	KindPropose:          kindOf[Propose]("propose", Version2),
	KindApprove:          kindOf[Approve]("approve", Version2),
	KindProposeValidator: kindOf[ProposeValidator]("propose_validator", Version3),
}

// kindOf is a registry line: the payload type T, whose pointer implements Payload, its name
// and the protocol version from which it applies.
func kindOf[T any, P interface {
	*T
	Payload
}](name string, since Version) kindInfo {
	structs := P(new(T)).eip712Structs()
	return kindInfo{
		name:    name,
		new:     func() Payload { return P(new(T)) },
		null:    P(nil),
		structs: structs,
		primary: structs[0].name,
		since:   since,
	}
}

// Kinds lists every kind in encoding order.
var Kinds = func() []Kind {
	var ks []Kind
	for k := range kinds {
		if kinds[k].new != nil {
			ks = append(ks, Kind(k))
		}
	}
	return ks
}()

// String is the kind's name ("transfer"), as in the JSON form, or kind(N) for a number that
// names no kind.
func (k Kind) String() string {
	if int(k) < len(kinds) && kinds[k].name != "" {
		return kinds[k].name
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ParseKind maps a kind's name back to the kind.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if kinds[k].name == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("%w: %q", ErrUnknownKind, s)
}

// newPayload returns a zero payload of kind k, or nil if k names no kind.
func newPayload(k Kind) Payload {
	if int(k) < len(kinds) && kinds[k].new != nil {
		return kinds[k].new()
	}
	return nil
}

// isNilPayload reports whether p is a nil pointer of its kind (say (*Transfer)(nil)), which
// the EIP-712 code refuses rather than dereference. It compares interface values, so it
// costs no allocation and no reflection.
func isNilPayload(p Payload) bool {
	k := p.Kind()
	return int(k) < len(kinds) && p == kinds[k].null
}

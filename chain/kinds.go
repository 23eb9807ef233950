package chain

import "fmt"

// The registry of transaction kinds. A kind lives in kind_<name>.go (its payload, kind number,
// encoding and stateless check); the generic code reaches it through the table below and the
// Payload methods instead of a switch over kinds.

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
}

// kindInfo is what the generic code knows of a kind besides its Payload methods.
type kindInfo struct {
	name    string         // Kind.String, ParseKind and the "kind" of the JSON form
	primary string         // the EIP-712 primary type
	new     func() Payload // a zero payload to decode into
}

// kinds is the registry, indexed by Kind: one line per kind. A number given twice does not
// compile, so two kinds cannot share one.
var kinds = [...]kindInfo{
	KindRegisterProgram: kindOf[RegisterProgram]("register_program", "RegisterProgram"),
	KindUpdateProgram:   kindOf[UpdateProgram]("update_program", "UpdateProgram"),
	KindEarn:            kindOf[Earn]("earn", "Earn"),
	KindReverse:         kindOf[Reverse]("reverse", "Reverse"),
	KindTransfer:        kindOf[Transfer]("transfer", "Transfer"),
	KindRedeem:          kindOf[Redeem]("redeem", "Redeem"),
	KindSetRate:         kindOf[SetRate]("set_rate", "SetRate"),
	KindExchange:        kindOf[Exchange]("exchange", "Exchange"),
	KindSettle:          kindOf[Settle]("settle", "Settle"),
}

// kindOf is a registry line: the payload type T, whose pointer implements Payload.
func kindOf[T any, P interface {
	*T
	Payload
}](name, primary string) kindInfo {
	return kindInfo{name: name, primary: primary, new: func() Payload { return P(new(T)) }}
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

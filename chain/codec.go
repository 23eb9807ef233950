package chain

import "github.com/loyal-ledger/loyal/internal/wire"

// The canonical binary encoding. Every integer is fixed-width big-endian (so there is exactly
// one encoding of each value), every variable-length field carries its length, and every
// top-level encoding starts with a type byte and a version byte. Decoding is strict: unknown
// versions, bad booleans, invalid UTF-8, over-long fields and trailing bytes are rejected, so
// decode(encode(x)) == x and encode(decode(b)) == b for every b that decodes.

// The primitives are package wire's, shared with the consensus messages; decoding failures
// wrap this package's errors, so their codes are the chain's.
type (
	encoder = wire.Encoder
	decoder = wire.Decoder
)

var wireErrors = &wire.Errors{
	Malformed: ErrMalformed, FieldTooLong: ErrFieldTooLong, TooLarge: ErrTooLarge, TooManyItems: ErrTooManyItems,
}

func newDecoder(b []byte) decoder { return wire.NewDecoder(b, wireErrors) }

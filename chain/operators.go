package chain

// A program's operator list travels in RegisterProgram and UpdateProgram and is kept in the
// program record and in genesis: one encoding and one set of rules for all of them.

func encodeAddresses(e *encoder, as []Address) {
	e.U32(uint32(len(as)))
	for _, a := range as {
		e.Address(a)
	}
}

func decodeAddresses(d *decoder, max int) []Address {
	n := d.Count(max, 20)
	if n == 0 {
		return nil
	}
	as := make([]Address, n)
	for i := range as {
		as[i] = d.Address()
	}
	return as
}

func checkOperators(ops []Address) error {
	if len(ops) > maxDecodeOperators {
		return rejectf(ErrTooManyItems, "%d operators exceed %d", len(ops), maxDecodeOperators)
	}
	for i, a := range ops {
		if a == (Address{}) {
			return rejectf(ErrZeroAddress, "operator %d", i)
		}
		for _, b := range ops[:i] {
			if a == b {
				return rejectf(ErrMalformed, "operator %s listed twice", a)
			}
		}
	}
	return nil
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

// addressesJSON is the typed-data JSON of an address[].
func addressesJSON(as []Address) []string {
	out := make([]string, len(as)) // never nil: EIP-712 arrays must be [] not null
	for i, a := range as {
		out[i] = a.Hex()
	}
	return out
}

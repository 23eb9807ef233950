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

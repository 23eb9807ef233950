package chain

import "unicode/utf8"

// The stateless rules that the fields of several payloads share.

func checkSymbol(field, s string) error {
	if !ValidSymbol(s) {
		return rejectf(ErrBadSymbol, "%s %q", field, s)
	}
	return nil
}

// checkPair checks the two distinct programs that an exchange rate, an exchange or a
// settlement is between.
func checkPair(fieldA, a, fieldB, b string) error {
	if err := checkSymbol(fieldA, a); err != nil {
		return err
	}
	if err := checkSymbol(fieldB, b); err != nil {
		return err
	}
	if a == b {
		return rejectf(ErrSameProgram, "%s", a)
	}
	return nil
}

func checkString(field, s string, max int) error {
	if len(s) > max {
		return rejectf(ErrFieldTooLong, "%s of %d bytes exceeds %d", field, len(s), max)
	}
	if !utf8.ValidString(s) {
		return rejectf(ErrMalformed, "%s is not valid UTF-8", field)
	}
	return nil
}

func checkRef(field, s string) error {
	if s == "" {
		return rejectf(ErrEmptyRef, "%s", field)
	}
	return checkString(field, s, maxDecodeString)
}

func checkAmount(field string, v uint64) error {
	if v == 0 {
		return rejectf(ErrAmountZero, "%s", field)
	}
	return nil
}

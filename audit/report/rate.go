package report

import (
	"bytes"
	"fmt"
	"math"
	"math/bits"
	"strconv"
)

// Rate is a ratio in basis points (1/10,000), rounded down: 417 is 4.17 %. It is undefined
// when its denominator is zero — JSON null, an empty CSV cell — and never a float, so two
// reports compare exactly.
type Rate struct {
	BPS     uint64
	Defined bool
}

// ratio is floor(10,000 · num / den), undefined for den = 0 (capped at the largest uint64,
// which no chain reaches).
func ratio(num, den uint64) Rate {
	if den == 0 {
		return Rate{}
	}
	hi, lo := bits.Mul64(num, 10_000)
	if hi >= den {
		return Rate{BPS: math.MaxUint64, Defined: true}
	}
	q, _ := bits.Div64(hi, lo, den)
	return Rate{BPS: q, Defined: true}
}

// String is the basis points in decimal, "" when undefined.
func (r Rate) String() string {
	if !r.Defined {
		return ""
	}
	return strconv.FormatUint(r.BPS, 10)
}

// MarshalJSON writes the basis points as a decimal string, like every amount, or null.
func (r Rate) MarshalJSON() ([]byte, error) {
	if !r.Defined {
		return []byte("null"), nil
	}
	return strconv.AppendQuote(nil, r.String()), nil
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *Rate) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*r = Rate{}
		return nil
	}
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("report: rate %s is not a quoted decimal", b)
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return fmt.Errorf("report: rate %q: %w", s, err)
	}
	*r = Rate{BPS: v, Defined: true}
	return nil
}

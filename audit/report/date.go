package report

import (
	"fmt"
	"time"

	"github.com/loyal-ledger/loyal/chain"
)

// Date is a UTC day, written YYYY-MM-DD in JSON and CSV.
type Date chain.Day

// ParseDate reads a UTC day written YYYY-MM-DD.
func ParseDate(s string) (chain.Day, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, fmt.Errorf("%w: date %q is not YYYY-MM-DD", ErrBadOptions, s)
	}
	if t.Unix() < 0 || uint64(t.Unix()) >= chain.MaxBlockTime {
		return 0, fmt.Errorf("%w: date %s is out of the chain's range", ErrBadOptions, s)
	}
	return chain.DayOf(uint64(t.Unix())), nil
}

// String is the day as YYYY-MM-DD.
func (d Date) String() string {
	return time.Unix(int64(d)*chain.SecondsPerDay, 0).UTC().Format(time.DateOnly)
}

// MarshalText writes YYYY-MM-DD.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads YYYY-MM-DD.
func (d *Date) UnmarshalText(b []byte) error {
	day, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = Date(day)
	return nil
}

// monthEnd is the last day of the calendar month of day d.
func monthEnd(d chain.Day) chain.Day {
	t := time.Unix(int64(d)*chain.SecondsPerDay, 0).UTC()
	next := time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	return chain.DayOf(uint64(next.Unix())) - 1
}

package report

import (
	"math"
	"testing"
)

// Rates are floor(10,000 · num / den) in whole basis points, undefined without a
// denominator, and never wrap.
func TestRatio(t *testing.T) {
	for _, c := range []struct {
		num, den uint64
		want     Rate
	}{
		{1, 3, Rate{3333, true}},
		{2, 3, Rate{6666, true}},
		{5, 5, Rate{10_000, true}},
		{7, 2, Rate{35_000, true}}, // more redeemed than entered in the period
		{0, 9, Rate{0, true}},
		{4, 0, Rate{}},
		{math.MaxUint64, math.MaxUint64, Rate{10_000, true}},
		{math.MaxUint64, 1, Rate{math.MaxUint64, true}},
	} {
		if got := ratio(c.num, c.den); got != c.want {
			t.Errorf("ratio(%d, %d) = %+v, want %+v", c.num, c.den, got, c.want)
		}
	}
}

// Dates are UTC days; months end on their last day, February and December included.
func TestDates(t *testing.T) {
	for _, c := range []struct{ day, monthEnd string }{
		{"2025-06-15", "2025-06-30"}, {"2024-02-01", "2024-02-29"}, {"2025-02-28", "2025-02-28"},
		{"2025-12-31", "2025-12-31"}, {"1970-01-01", "1970-01-31"},
	} {
		d, err := ParseDate(c.day)
		if err != nil {
			t.Fatal(err)
		}
		if Date(d).String() != c.day || Date(monthEnd(d)).String() != c.monthEnd {
			t.Errorf("%s: read as %s, month ends %s; want %s", c.day, Date(d), Date(monthEnd(d)), c.monthEnd)
		}
	}
	for _, bad := range []string{"2025-6-1", "2025-02-30", "yesterday", "1969-12-31", ""} {
		if _, err := ParseDate(bad); err == nil {
			t.Errorf("%q read as a date", bad)
		}
	}
}

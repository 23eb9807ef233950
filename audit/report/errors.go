package report

import "errors"

// Errors of the report, wrapped with details.
var (
	// ErrBadOptions is a report asked for with options that contradict each other or the
	// chain (a period that ends before it starts, an as-of height before the first day).
	ErrBadOptions = errors.New("report: bad options")
	// ErrNoBlock is a period that ends before the chain's first block: there is no state to
	// report as of its end.
	ErrNoBlock = errors.New("report: no block at or before the end of the period")
	// ErrInconsistent is a chain whose records disagree with each other: a program's
	// outstanding points against its holders' balances, or a settlement position against the
	// payments recorded. A verified chain never has one; it means a bug in the ledger.
	ErrInconsistent = errors.New("report: the chain's records disagree")
)

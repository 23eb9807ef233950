package chain

// State keys the ledger has no need of, exported to the tests that read records directly.
var (
	ProgramListKeyForTest = programListKey
	RouteKeyForTest       = routeKey
)

package chain

// State keys the ledger has no need of, exported to the tests that read records directly.
var (
	ProgramListKeyForTest = programListKey
	RouteKeyForTest       = routeKey
)

// ApprovalsNeededForTest is the fewest approvals that pass the governance threshold among n
// eligible partners.
func ApprovalsNeededForTest(n int) int {
	for k := 0; k <= n; k++ {
		if passes(k, n) {
			return k
		}
	}
	return -1
}

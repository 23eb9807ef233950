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

// RetiredKeyTargetForTest returns the key a rotated-away partner key k was rotated to, if k
// is one; lookup reads a committed state record by key.
func RetiredKeyTargetForTest(lookup func(key []byte) ([]byte, error), k Address) (Address, bool, error) {
	v, err := lookup(retiredKeyKey(k))
	if err != nil || len(v) != 1+len(Address{}) {
		return Address{}, false, err
	}
	return Address(v[1:]), true, nil
}

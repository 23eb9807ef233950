package node

// DeskTracked is how many orders and transactions the merchant desk's bookkeeping holds.
func DeskTracked(n *Node) (orders, txs, failed int) {
	d := n.desk
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.pending), len(d.byHash), len(d.failed)
}

// ReplaceFileForTest is replaceFile, for the tests outside the package.
var ReplaceFileForTest = replaceFile

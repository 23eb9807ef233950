package httpapi

import (
	"regexp"
)

// packagePrefix matches the "pkg: " with which a Go package starts its error sentences (Go's
// convention, kept inside the node for its logs), at the start of a message or after the ": "
// of a wrapping context. API callers get the sentences without them: they name no Go package.
var packagePrefix = regexp.MustCompile(`(^|: )(?:chain|ledger|store|mempool|node|httpapi|api|consensus|blocksync|p2p|smt|merkle|wire): `)

// publicMessage is err's sentence for an API caller: its text with every Go package prefix
// removed. The stable code travels beside it, unchanged.
func publicMessage(err error) string {
	msg := err.Error()
	for {
		next := packagePrefix.ReplaceAllString(msg, "$1")
		if next == msg {
			return msg
		}
		msg = next
	}
}

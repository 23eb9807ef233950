package httpapi

import (
	"errors"
	"regexp"
	"strings"
)

// packagePrefix matches the "pkg: " with which a Go package starts its error sentences (Go's
// convention, kept inside the node for its logs), at the start of a text or after the ": "
// of a wrapping context. API callers get the sentences without them: they name no Go package.
var packagePrefix = regexp.MustCompile(`(^|: )(?:chain|ledger|store|mempool|node|httpapi|api|consensus|blocksync|p2p|smt|merkle|wire): `)

// publicMessage is err's sentence for an API caller: its text with every Go package prefix
// removed. The stable code travels beside it, unchanged.
//
// It follows the chain of wrapped errors, so that only the node's own words lose prefixes:
// the contexts wrapped around an error ("node: submit: %w") and the sentinels at the bottom
// ("chain: nonce too low"). The details after a sentinel ("%w: order %s …") carry the
// caller's own input (order refs, symbols) and are echoed as they are.
func publicMessage(err error) string {
	text := err.Error()
	inner := errors.Unwrap(err)
	if inner == nil {
		return stripPrefixes(text)
	}
	in := inner.Error()
	switch i := strings.Index(text, in); {
	case i < 0: // a wrapper that does not quote its cause: its text is all there is
		return stripPrefixes(text)
	default: // context before the cause, details after it
		return stripPrefixes(text[:i]) + publicMessage(inner) + text[i+len(in):]
	}
}

// stripPrefixes removes the package prefixes of text, the node's own words. Prefixes are
// looked for only before the first double quote: what follows may be input echoed with %q.
func stripPrefixes(text string) string {
	quoted := ""
	if i := strings.IndexByte(text, '"'); i >= 0 {
		text, quoted = text[:i], text[i:]
	}
	for {
		next := packagePrefix.ReplaceAllString(text, "$1")
		if next == text {
			return text + quoted
		}
		text = next
	}
}

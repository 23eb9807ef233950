// Package safetext makes strings that others chose — names, refs and memos from the ledger,
// a genesis or a partner's entry — safe to print on a terminal line, for both binaries.
//
//	fmt.Fprintf(w, "added partner %s %s\n", safetext.Clean(p.Name), p.Address)
//
// A string that holds a tab, a line break, a carriage return, an escape or any other
// character unicode.IsPrint refuses (controls, format characters such as the bidirectional
// overrides, separators other than the ASCII space) is written Go-quoted instead, so it can
// neither forge lines or table cells of the output around it nor send escape sequences to
// the terminal; so is a string that is not valid UTF-8, whose stray bytes a terminal could
// take for 8-bit controls (0x9b is CSI in some). Anything else, including letters of any
// script, is written as it is.
package safetext

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Clean is s if every character of it prints as itself on one line, else s Go-quoted
// (strconv.Quote), which escapes the characters that do not.
func Clean(s string) string {
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if r == '\t' || !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

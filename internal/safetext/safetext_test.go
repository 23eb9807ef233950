package safetext

import "testing"

// A string that could forge a line or reach the terminal as a control sequence is quoted;
// one that prints as itself is left alone.
func TestClean(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "acme", "acme"},
		{"spaces and punctuation", `Dave's Deli "Nord"`, `Dave's Deli "Nord"`},
		{"another script", "Café Ünïcödé 咖啡", "Café Ünïcödé 咖啡"},
		{"empty", "", ""},
		{"line feed", "acme\ngenesis hash  0x00", `"acme\ngenesis hash  0x00"`},
		{"carriage return", "acme\rgenesis hash  0x00", `"acme\rgenesis hash  0x00"`},
		{"terminal escape", "acme\x1b[2K\x1b[1A", `"acme\x1b[2K\x1b[1A"`},
		{"tab", "a\tb", `"a\tb"`},
		{"right-to-left override", "acme\u202egpj.exe", `"acme\u202egpj.exe"`},
		{"no-break space", "a\u00a0b", `"a\u00a0b"`},
		{"line separator", "a\u2028b", `"a\u2028b"`},
		{"invalid UTF-8", "a\xffb", `"a\xffb"`},
		{"DEL", "a\x7fb", `"a\x7fb"`},
		{"an 8-bit CSI", "a\x9b2Jb", `"a\x9b2Jb"`},
		{"a real replacement character", "a\ufffdb", "a\ufffdb"},
	} {
		if got := Clean(tc.in); got != tc.want {
			t.Errorf("%s: Clean(%q) = %s, want %s", tc.name, tc.in, got, tc.want)
		}
	}
}

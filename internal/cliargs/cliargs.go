// Package cliargs lets flags go anywhere on the command line of both binaries, loyal and
// loyald, as people type them.
package cliargs

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// Normalize lets flags go anywhere on the command line, as people type them:
//
//	loyal key new alice --keystore /tmp/ks --light-kdf
//
// urfave/cli v2 (like the flag package) stops parsing flags at the first argument and
// knows a global flag only before the command name. Normalize walks the command
// tree, moves each flag (with its value, if the flag takes one) to the level that
// defines it — the command's own, or the app's for global flags — and puts the positional
// arguments last, after "--" when one of them starts with '-'. A flag nobody defines stays
// at the deepest command, where urfave/cli reports it. Everything after a "--" is
// positional.
func Normalize(globals []cli.Flag, cmds []*cli.Command, args []string) []string {
	type level struct {
		name  string // "" for the app
		flags []cli.Flag
		out   []string
	}
	levels := []*level{{flags: globals}}
	var positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if len(a) > 1 && a[0] == '-' {
			name, hasValue := strings.TrimLeft(a, "-"), false
			if j := strings.IndexByte(name, '='); j >= 0 {
				name, hasValue = name[:j], true
			}
			at, f := len(levels)-1, cli.Flag(nil)
			for l := len(levels) - 1; l >= 0 && f == nil; l-- {
				if f = findFlag(levels[l].flags, name); f != nil {
					at = l
				}
			}
			levels[at].out = append(levels[at].out, a)
			if f != nil && !hasValue && takesValue(f) && i+1 < len(args) {
				i++
				levels[at].out = append(levels[at].out, args[i])
			}
			continue
		}
		if len(positional) == 0 {
			if cmd := findCommand(cmds, a); cmd != nil {
				levels = append(levels, &level{name: a, flags: cmd.Flags})
				cmds = cmd.Subcommands
				continue
			}
		}
		positional = append(positional, a)
	}
	var out []string
	for _, l := range levels {
		if l.name != "" {
			out = append(out, l.name)
		}
		out = append(out, l.out...)
	}
	for _, p := range positional {
		if strings.HasPrefix(p, "-") {
			out = append(out, "--")
			break
		}
	}
	return append(out, positional...)
}

func findFlag(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	return nil
}

func takesValue(f cli.Flag) bool {
	tv, ok := f.(interface{ TakesValue() bool })
	return ok && tv.TakesValue()
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

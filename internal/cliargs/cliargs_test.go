package cliargs

import (
	"reflect"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// Flags move to the level that defines them, with their values; arguments go last.
func TestNormalize(t *testing.T) {
	home := &cli.StringFlag{Name: "home"}
	globals := []cli.Flag{&cli.BoolFlag{Name: "verbose"}}
	cmds := []*cli.Command{{
		Name: "genesis",
		Subcommands: []*cli.Command{
			{Name: "check", Flags: []cli.Flag{&cli.BoolFlag{Name: "json"}}},
			{Name: "install", Flags: []cli.Flag{home, &cli.BoolFlag{Name: "json"}}},
			{Name: "add", Flags: []cli.Flag{&cli.BoolFlag{Name: "json"}}},
		},
	}}
	for _, tt := range []struct{ in, want string }{
		{"genesis check genesis.json --json", "genesis check --json genesis.json"},
		{"genesis install genesis.json --home /h --json", "genesis install --home /h --json genesis.json"},
		{"genesis add g.json a.json b.json --json --verbose", "--verbose genesis add --json g.json a.json b.json"},
		{"genesis add g.json -odd.json", "genesis add -odd.json g.json"},
		{"genesis add g.json -- -odd.json", "genesis add -- g.json -odd.json"},
		{"genesis install --home=/h g.json", "genesis install --home=/h g.json"},
	} {
		got := Normalize(globals, cmds, strings.Fields(tt.in))
		if want := strings.Fields(tt.want); !reflect.DeepEqual(got, want) {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, want)
		}
	}
}

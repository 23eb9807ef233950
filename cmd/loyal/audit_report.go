package main

import (
	"errors"
	"io"
	"strings"

	"github.com/urfave/cli/v2"

	auditreport "github.com/loyal-ledger/loyal/audit/report"
	"github.com/loyal-ledger/loyal/audit/verify"
	"github.com/loyal-ledger/loyal/internal/human"
)

// auditReportCommands are `loyal audit report`.
func auditReportCommands() []*cli.Command {
	return []*cli.Command{{
		Name:  "report",
		Usage: "per program issued, reversed, redeemed, expired, exchanged, outstanding, members and rates, and the settlement matrix, from a verified chain",
		Description: "Reads the export FILE, or without --file the chain of the node --node names, through its public API;\n" +
			"verifies it from genesis, as `loyal audit verify` does, and reports what its blocks did in a period:\n" +
			"from the start of --from's UTC day (default: the chain's first block) to the end of --to's (default: the\n" +
			"chain's last block), or to block --height. A date stands for the state after the last block at or before\n" +
			"23:59:59 UTC that day. docs/audit-report.md defines every figure.\n\n" +
			"Output: tables; --json the whole report; --csv one row per statement and program; --csv-settlement one\n" +
			"row per statement and settlement position; --csv-payments one row per payment recorded.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "file", Usage: "report on this export `FILE` (loyald export, loyal audit export)"},
			&cli.StringFlag{Name: "genesis", Usage: "the genesis `FILE` you trust: the chain's must be this one"},
			&cli.IntFlag{Name: "workers", Usage: "signature recovery goroutines (default: every core)"},
			&cli.StringFlag{Name: "from", Usage: "the period's first UTC day, `YYYY-MM-DD` (default: the day of the chain's first block)"},
			&cli.StringFlag{Name: "to", Aliases: []string{"date"}, Usage: "as of the end of UTC day `YYYY-MM-DD`, the period's last (default: the chain's last block)"},
			&cli.Uint64Flag{Name: "height", Usage: "as of block `HEIGHT` instead of a day; the verification stops there"},
			&cli.BoolFlag{Name: "monthly", Usage: "one statement per calendar month of the period"},
			&cli.BoolFlag{Name: "csv", Usage: "print the programs' figures as CSV"},
			&cli.BoolFlag{Name: "csv-settlement", Usage: "print the settlement matrix as CSV"},
			&cli.BoolFlag{Name: "csv-payments", Usage: "print the payments recorded as CSV"},
		},
		Action: auditReport,
	}}
}

func auditReport(c *cli.Context) error {
	if _, err := args(c, 0); err != nil {
		return err
	}
	o, err := reportOptions(c)
	if err != nil {
		return err
	}
	write, err := reportFormat(c)
	if err != nil {
		return err
	}
	b, err := auditreport.New(o)
	if err != nil {
		return usagef("%s: %v", cmdPath(c), err)
	}
	trusted, err := trustedGenesis(c)
	if err != nil {
		return err
	}
	src, err := openAuditSource(c, nil)
	if err != nil {
		return err
	}
	defer src.Close()
	v, err := runVerify(c, src, verify.Options{Genesis: trusted, Workers: c.Int("workers"), StopAt: b.StopAt(), Observe: b.Observe})
	var rep *auditreport.Report
	if err == nil {
		rep, err = b.Finish(v)
	}
	if errors.Is(err, auditreport.ErrBadOptions) { // the flags contradict the chain
		return usagef("%s: %v", cmdPath(c), err)
	}
	if err != nil {
		return err
	}
	return write(rep)
}

// reportOptions reads the period and the as-of point from the flags.
func reportOptions(c *cli.Context) (auditreport.Options, error) {
	o := auditreport.Options{Height: c.Uint64("height"), Monthly: c.Bool("monthly")}
	for _, f := range []struct {
		name string
		day  *uint32
	}{{"from", &o.From}, {"to", &o.To}} {
		name, day := f.name, f.day
		if !c.IsSet(name) {
			continue
		}
		d, err := auditreport.ParseDate(c.String(name))
		if err != nil {
			return o, usagef("--%s: %v", name, err)
		}
		*day = d
	}
	if c.IsSet("height") && o.Height == 0 {
		return o, usagef("--height: must be at least 1")
	}
	return o, nil
}

// reportFormat is the writer of the one output format the flags ask for: a table by
// default, --json, or one of the CSV tables.
func reportFormat(c *cli.Context) (func(*auditreport.Report) error, error) {
	csvs := map[string]func(*auditreport.Report, io.Writer) error{
		"csv": (*auditreport.Report).WriteProgramsCSV, "csv-settlement": (*auditreport.Report).WriteSettlementCSV,
		"csv-payments": (*auditreport.Report).WritePaymentsCSV,
	}
	var chosen []string
	for _, name := range []string{"json", "csv", "csv-settlement", "csv-payments"} {
		if c.Bool(name) {
			chosen = append(chosen, "--"+name)
		}
	}
	switch {
	case len(chosen) > 1:
		return nil, usagef("%s: %s: give one output format", cmdPath(c), strings.Join(chosen, " and "))
	case len(chosen) == 1 && chosen[0] != "--json":
		w := csvs[chosen[0][2:]]
		return func(r *auditreport.Report) error { return w(r, c.App.Writer) }, nil
	}
	return func(r *auditreport.Report) error {
		return output(c, r, func(w io.Writer) error { return human.WriteAuditReport(w, r) })
	}, nil
}

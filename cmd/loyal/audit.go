package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/loyal-ledger/loyal/audit/export"
	"github.com/loyal-ledger/loyal/audit/verify"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/internal/human"
)

func auditCommands() []*cli.Command {
	return []*cli.Command{{
		Name: "audit", Usage: "verify the chain from genesis, trusting no node", Category: "auditor", Action: groupAction,
		Subcommands: append(append([]*cli.Command{{
			Name:  "verify",
			Usage: "check every header, certificate, signature and state root from genesis, and each program's conservation",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "file", Usage: "verify this export `FILE` (loyald export, loyal audit export)"},
				&cli.StringFlag{Name: "genesis", Usage: "the genesis `FILE` you trust: the chain's must be this one"},
				&cli.IntFlag{Name: "workers", Usage: "signature recovery goroutines (default: every core)"},
			},
			Action: auditVerify,
		}}, auditProofCommands()...), auditReportCommands()...),
	}}
}

func auditVerify(c *cli.Context) error {
	if _, err := args(c, 0); err != nil {
		return err
	}
	if err := need(c, "file"); err != nil {
		return err
	}
	var trusted chain.Hash
	if path := c.String("genesis"); path != "" {
		g, err := chain.LoadGenesis(path)
		if err != nil {
			return err
		}
		trusted = g.Hash()
	}
	f, err := os.Open(c.String("file"))
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	counted := &countingReader{r: f}
	progress := human.NewProgress(c.App.ErrWriter, "verifying", st.Size(), true, isTerminal(c.App.ErrWriter) && !c.Bool("json"))
	opts := verify.Options{Genesis: trusted, Workers: c.Int("workers"), Progress: func(height, txs uint64) {
		progress.Set(counted.n.Load(), fmt.Sprintf("height %d, %d txs", height, txs))
	}}
	rep, err := verifyFile(c.Context, counted, opts)
	progress.Finish()
	if rep == nil { // the file's header or genesis could not be read
		rep = &verify.Report{Failure: &verify.Failure{Check: verify.CheckRead, Error: err.Error()}}
	}
	if perr := output(c, rep, func(w io.Writer) error { return human.WriteVerifyReport(w, rep) }); perr != nil {
		return perr
	}
	return err
}

func verifyFile(ctx context.Context, r io.Reader, o verify.Options) (*verify.Report, error) {
	er, err := export.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%w: height 0: %s: %w", verify.ErrFailed, verify.CheckRead, err)
	}
	return verify.Verify(ctx, er, o)
}

// countingReader counts the bytes read through it, for the progress of a file. The
// verifier reads on a goroutine of its own; the progress is shown from another.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// isTerminal tells whether w is a terminal (progress bars), not a file or a pipe (lines).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

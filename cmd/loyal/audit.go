package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/loyal-ledger/loyal/audit/export"
	"github.com/loyal-ledger/loyal/audit/remote"
	"github.com/loyal-ledger/loyal/audit/verify"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/internal/fsutil"
	"github.com/loyal-ledger/loyal/internal/human"
	"github.com/loyal-ledger/loyal/wallet"
)

func auditCommands() []*cli.Command {
	return []*cli.Command{{
		Name: "audit", Usage: "verify the chain from genesis, trusting no node", Category: "auditor", Action: groupAction,
		Subcommands: append(append([]*cli.Command{{
			Name:        "verify",
			Usage:       "check every header, certificate, signature and state root from genesis, and each program's conservation",
			Description: "Reads the export FILE, or without --file the chain of the node --node names, through its public API.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "file", Usage: "verify this export `FILE` (loyald export, loyal audit export)"},
				&cli.StringFlag{Name: "genesis", Usage: "the genesis `FILE` you trust: the chain's must be this one"},
				&cli.IntFlag{Name: "workers", Usage: "signature recovery goroutines (default: every core)"},
				&cli.StringFlag{Name: "checkpoint", Usage: "after a successful verification, write a checkpoint to `FILE` (resume with --since)"},
				&cli.StringFlag{Name: "since", Usage: "resume from the checkpoint `FILE` of an earlier verification: check only later blocks"},
			},
			Action: auditVerify,
		}, {
			Name:  "export",
			Usage: "write the chain of the node --node names to one export file (its genesis, blocks and certificates)",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "out", Usage: "the export `FILE` to write", Required: true},
				&cli.Uint64Flag{Name: "to", Usage: "the last `HEIGHT` to export (default: the node's head)"},
			},
			Action: auditExport,
		}}, auditProofCommands()...), auditReportCommands()...),
	}}
}

func auditExport(c *cli.Context) error {
	if _, err := args(c, 0); err != nil {
		return err
	}
	height, err := remote.ExportFile(c.Context, auditClient(c), c.String("out"), c.Uint64("to"))
	if err != nil {
		return err
	}
	res := struct {
		File   string `json:"file"`
		Height uint64 `json:"height,string"`
	}{c.String("out"), height}
	return output(c, res, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "exported blocks 1 to %d to %s; verify it with: loyal audit verify --file %s --genesis GENESIS\n", height, res.File, res.File)
		return err
	})
}

func auditVerify(c *cli.Context) error {
	if _, err := args(c, 0); err != nil {
		return err
	}
	trusted, err := trustedGenesis(c)
	if err != nil {
		return err
	}
	opts := verify.Options{Genesis: trusted, Workers: c.Int("workers")}
	if path := c.String("since"); path != "" {
		if opts.Since, err = readCheckpoint(path); err != nil {
			return err
		}
	}
	src, err := openAuditSource(c, opts.Since)
	if err != nil {
		return err
	}
	defer src.Close()
	rep, err := runVerify(c, src, opts)
	if err == nil && c.String("checkpoint") != "" {
		if rep.Checkpoint() == nil {
			return fmt.Errorf("no checkpoint written: the chain has no block yet")
		}
		if err := writeCheckpoint(c.String("checkpoint"), rep.Checkpoint()); err != nil {
			return err
		}
	}
	if rep == nil { // the source's header or genesis could not be read
		rep = &verify.Report{Failure: &verify.Failure{Check: verify.CheckRead, Error: err.Error()}}
	}
	if perr := output(c, rep, func(w io.Writer) error { return human.WriteVerifyReport(w, rep) }); perr != nil {
		return perr
	}
	return err
}

// trustedGenesis is the hash of the genesis file --genesis names, or zero without one.
func trustedGenesis(c *cli.Context) (chain.Hash, error) {
	path := c.String("genesis")
	if path == "" {
		return chain.Hash{}, nil
	}
	g, err := chain.LoadGenesis(path)
	if err != nil {
		return chain.Hash{}, err
	}
	return g.Hash(), nil
}

// auditSource is where an auditor's command reads the chain from: an export file (--file),
// or a node's public API (--node).
type auditSource struct {
	open    func() (verify.Source, error) // reads the header and genesis
	total   int64                         // units of progress: bytes of the file, or blocks
	done    func() int64                  // bytes read so far; nil: progress is by height
	closeFn func()
}

func (s *auditSource) Close() { s.closeFn() }

// openAuditSource opens the chain the command names: --file, or else --node (from the
// block after since, if not nil).
func openAuditSource(c *cli.Context, since *verify.Checkpoint) (*auditSource, error) {
	if c.String("file") == "" {
		return openNodeSource(c, since)
	}
	f, err := os.Open(c.String("file"))
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	counted := &countingReader{r: f}
	return &auditSource{
		open: func() (verify.Source, error) {
			r, err := export.NewReader(counted)
			if err != nil {
				return nil, fmt.Errorf("%w: height 0: %s: %w", verify.ErrFailed, verify.CheckRead, err)
			}
			return r, nil
		},
		total: st.Size(), done: counted.n.Load, closeFn: func() { f.Close() },
	}, nil
}

// openNodeSource reads the chain of the node --node names, to its head when opened.
func openNodeSource(c *cli.Context, since *verify.Checkpoint) (*auditSource, error) {
	s := &auditSource{closeFn: func() {}}
	from := uint64(1)
	if since != nil {
		from = since.Height() + 1
	}
	s.open = func() (verify.Source, error) {
		src, err := remote.OpenFrom(c.Context, auditClient(c), from, 0)
		if err != nil {
			return nil, fmt.Errorf("%w: height 0: %s: %w", verify.ErrFailed, verify.CheckRead, err)
		}
		s.total = int64(src.To())
		return src, nil
	}
	return s, nil
}

// runVerify verifies src with o, showing progress on standard error (a bar on a terminal,
// plain lines otherwise, none with --json on a terminal). A nil report: src could not be
// opened.
func runVerify(c *cli.Context, src *auditSource, o verify.Options) (*verify.Report, error) {
	s, err := src.open()
	if err != nil {
		return nil, err
	}
	progress := human.NewProgress(c.App.ErrWriter, "verifying", src.total, src.done != nil, isTerminal(c.App.ErrWriter) && !c.Bool("json"))
	defer progress.Finish()
	start := time.Now()
	o.Progress = func(height, txs uint64) { // txs: verified in this run (after --since's checkpoint)
		done := int64(height)
		if src.done != nil {
			done = src.done()
		}
		rate := float64(txs) / max(time.Since(start).Seconds(), 1e-3)
		progress.Set(done, fmt.Sprintf("height %d, %d txs, %.0f tx/s", height, txs, rate))
	}
	return verify.Verify(c.Context, s, o)
}

// auditClient is the node's API client for a chain-long read: --timeout bounds each request,
// not the whole run (a million blocks take minutes), so a node that stops answering is
// given up on.
func auditClient(c *cli.Context) *wallet.Client {
	cl := client(c)
	if d := c.Duration("timeout"); d > 0 {
		cl.HTTP = &http.Client{Timeout: d}
	}
	return cl
}

func readCheckpoint(path string) (*verify.Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return verify.ReadCheckpoint(f)
}

func writeCheckpoint(path string, cp *verify.Checkpoint) error {
	f, err := fsutil.CreateAtomic(path, 0o644)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := cp.WriteTo(f); err != nil {
		return err
	}
	return f.Commit()
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

package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/audit/proof"
	"github.com/loyal-ledger/loyal/audit/verify"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/wallet"
)

// auditProofCommands are `loyal audit proof` and `loyal audit check-proof`.
func auditProofCommands() []*cli.Command {
	return []*cli.Command{{
		Name:  "proof",
		Usage: "write a bundle that proves one transaction or one balance to anyone holding the genesis (docs/proofs.md)",
		Description: "With --file the chain is verified from genesis up to the fact (--height: an account's balance after that block)\n" +
			"and the bundle built from it; otherwise the node's proofs are fetched and checked against --genesis before\n" +
			"they are written. Either way the bundle holds the block's header, the certificate committing to it and the\n" +
			"Merkle path to the fact; `loyal audit check-proof` verifies it with the genesis file alone.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "tx", Usage: "prove that the transaction `HASH` is in a certified block"},
			&cli.StringFlag{Name: "account", Usage: "prove the balance of `ADDRESS-OR-KEYNAME`"},
			&cli.StringFlag{Name: "program", Usage: "with --account: its balance in `SYMBOL` (default: every program it holds)"},
			&cli.Uint64Flag{Name: "height", Usage: "with --account and --file: after block `HEIGHT` (default: the last)"},
			&cli.StringFlag{Name: "file", Usage: "build it from this export `FILE`, verified from genesis (default: from the node, --node)"},
			&cli.StringFlag{Name: "genesis", Usage: "the genesis `FILE` you trust (required without --file)"},
			&cli.StringFlag{Name: "out", Usage: "write the bundle to `FILE` (default: standard output)"},
			&cli.IntFlag{Name: "workers", Usage: "with --file: signature recovery goroutines (default: every core)"},
		},
		Action: auditProof,
	}, {
		Name:      "check-proof",
		Usage:     "verify a proof bundle offline with the genesis file alone and print the fact it proves",
		ArgsUsage: "FILE",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "genesis", Usage: "the genesis `FILE` of the network the bundle must be of"},
		},
		Action: auditCheckProof,
	}}
}

func auditProof(c *cli.Context) error {
	if _, err := args(c, 0); err != nil {
		return err
	}
	req, err := proofRequest(c)
	if err != nil {
		return err
	}
	var b *proof.Bundle
	var f *proof.Fact
	// A past height needs the chain re-executed; the node proves only at its head.
	if c.IsSet("file") || c.IsSet("height") {
		b, f, err = proofFromChain(c, req)
	} else {
		b, f, err = proofFromNode(c, req)
	}
	if err != nil {
		return err
	}
	data, err := b.Encode()
	if err != nil {
		return err
	}
	out := c.String("out")
	if out == "" {
		_, err = c.App.Writer.Write(data)
		return err
	}
	if err := os.WriteFile(out, data, 0o644); err != nil {
		return err
	}
	return output(c, f, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "wrote %s, which proves: %s\n", out, f)
		return err
	})
}

// proofRequest reads the fact the flags name.
func proofRequest(c *cli.Context) (proof.Request, error) {
	var r proof.Request
	switch {
	case c.IsSet("tx") == c.IsSet("account"):
		return r, usagef("%s: name one fact: --tx HASH, or --account ADDRESS [--program SYMBOL]", cmdPath(c))
	case c.IsSet("tx") && (c.IsSet("program") || c.IsSet("height")):
		return r, usagef("%s: --program and --height go with --account: a transaction is proven at its block", cmdPath(c))
	case c.IsSet("height") && c.Uint64("height") == 0:
		return r, usagef("%s: --height must be a block height, 1 or more", cmdPath(c))
	}
	if c.IsSet("tx") {
		h, err := wallet.ParseHash(c.String("tx"))
		if err != nil {
			return r, usagef("--tx: %v", err)
		}
		r.Tx = h
		return r, nil
	}
	a, err := account(c, c.String("account"))
	if err != nil {
		return r, err
	}
	r.Account, r.Height = a, c.Uint64("height")
	if c.IsSet("program") {
		if r.Program, err = symbol(c, "program"); err != nil {
			return r, err
		}
	}
	return r, nil
}

// proofFromChain verifies the chain from genesis as far as the fact needs, with progress,
// builds the bundle from it and checks it against the chain's genesis (the trusted one when
// --genesis names it: the verification refuses any other).
func proofFromChain(c *cli.Context, req proof.Request) (*proof.Bundle, *proof.Fact, error) {
	trusted, err := trustedGenesis(c)
	if err != nil {
		return nil, nil, err
	}
	src, err := openAuditSource(c, nil)
	if err != nil {
		return nil, nil, err
	}
	defer src.Close()
	var g *chain.Genesis
	open := src.open
	src.open = func() (verify.Source, error) {
		s, err := open()
		if err == nil {
			g = s.Genesis()
		}
		return s, err
	}
	builder, err := proof.NewBuilder(req)
	if err != nil {
		return nil, nil, usageError{err}
	}
	rep, err := runVerify(c, src, builder.Options(verify.Options{Genesis: trusted, Workers: c.Int("workers")}))
	b, err := builder.Bundle(rep, err)
	if err != nil {
		return nil, nil, err
	}
	f, err := proof.Check(b, g)
	if err != nil {
		return nil, nil, fmt.Errorf("the bundle built does not check: %w", err)
	}
	return b, f, nil
}

// proofFromNode fetches the fact's proof and its block's certificate from the node and
// checks them against the trusted genesis before anything is written.
func proofFromNode(c *cli.Context, req proof.Request) (*proof.Bundle, *proof.Fact, error) {
	g, err := pinnedGenesis(c, "a node's proof is checked against the genesis you trust; name its file")
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := withTimeout(c)
	defer cancel()
	if req.Tx != (chain.Hash{}) {
		cl := client(c)
		p, err := cl.TxProof(ctx, req.Tx)
		if err != nil {
			return nil, nil, err
		}
		blk, err := certificateOf(ctx, cl, p.Header)
		if err != nil {
			return nil, nil, err
		}
		changes, err := setChanges(ctx, cl, p.Header)
		if err != nil {
			return nil, nil, err
		}
		return proof.FromNodeTx(req.Tx, p, blk, changes, g)
	}
	return nodeAccountBundle(ctx, c, req.Account, req.Program, g)
}

// nodeAccountBundle fetches account a's proof at the node's head and the certificate of
// that block, and checks both against g: the balance the wallet shows is then the
// validators' word, not the node's.
func nodeAccountBundle(ctx context.Context, c *cli.Context, a chain.Address, program string, g *chain.Genesis) (*proof.Bundle, *proof.Fact, error) {
	cl := client(c)
	p, err := cl.AccountProof(ctx, a, program)
	if err != nil {
		return nil, nil, err
	}
	blk, err := certificateOf(ctx, cl, p.Header)
	if err != nil {
		return nil, nil, err
	}
	changes, err := setChanges(ctx, cl, p.Header)
	if err != nil {
		return nil, nil, err
	}
	return proof.FromNodeAccount(a, program, p, blk, changes, g)
}

// setChanges fetches, for every validator-set epoch the node lists up to header h, the block
// before it with its certificate and the new set: what leads the bundle's check from
// genesis's validators to h's.
func setChanges(ctx context.Context, cl *wallet.Client, h *chain.Header) ([]proof.SetChange, error) {
	if h == nil {
		return nil, nil
	}
	v, err := cl.Validators(ctx, 0)
	if err != nil {
		return nil, err
	}
	var out []proof.SetChange
	for _, e := range v.Epochs {
		if e.From == 0 || e.From > h.Height+1 {
			continue
		}
		blk, err := cl.Block(ctx, e.From-1)
		if err != nil {
			return nil, err
		}
		set, err := cl.Validators(ctx, e.From)
		if err != nil {
			return nil, err
		}
		c, err := proof.SetChangeFromNode(e.From, blk, set)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// certificateOf fetches the block of header h for its certificate (the canonical one below
// the node's head, the one the node gathered at its head: either is checked the same way).
func certificateOf(ctx context.Context, cl *wallet.Client, h *chain.Header) (api.BlockInfo, error) {
	if h == nil {
		return api.BlockInfo{}, fmt.Errorf("%w: the node's proof names no header", proof.ErrBadBundle)
	}
	return cl.Block(ctx, h.Height)
}

// pinnedGenesis loads the genesis --genesis names; the wallet keeps no genesis of its own,
// so without the flag (or $LOYAL_GENESIS where the command reads it) why explains the need.
func pinnedGenesis(c *cli.Context, why string) (*chain.Genesis, error) {
	if c.String("genesis") == "" {
		return nil, usagef("%s: missing --genesis: %s (the wallet pins none of its own)", cmdPath(c), why)
	}
	return chain.LoadGenesis(c.String("genesis"))
}

func auditCheckProof(c *cli.Context) error {
	a, err := args(c, 1)
	if err != nil {
		return err
	}
	g, err := pinnedGenesis(c, "a bundle proves a fact of the network whose genesis you name")
	if err != nil {
		return err
	}
	file, err := os.Open(a[0])
	if err != nil {
		return err
	}
	defer file.Close()
	b, err := proof.Read(file)
	if err != nil {
		return err
	}
	f, err := proof.Check(b, g)
	if err != nil {
		return err
	}
	return output(c, f, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "proven: %s\n", f)
		return err
	})
}

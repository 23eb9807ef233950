package main

import "github.com/urfave/cli/v2"

// auditProofCommands are `loyal audit proof` and `loyal audit check-proof`.
func auditProofCommands() []*cli.Command { return nil }

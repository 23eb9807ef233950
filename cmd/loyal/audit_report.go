package main

import "github.com/urfave/cli/v2"

// auditReportCommands are `loyal audit report`.
func auditReportCommands() []*cli.Command { return nil }

package main

import (
	"fmt"
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/loyal-ledger/loyal/internal/human"
	"github.com/loyal-ledger/loyal/wallet"
)

func keyCommands() []*cli.Command {
	return []*cli.Command{{
		Name:     "key",
		Usage:    "manage keys: new, list, import, export",
		Category: "keys",
		Subcommands: []*cli.Command{
			{Name: "new", Usage: "create a key and name it", ArgsUsage: "NAME", Action: keyNew},
			{Name: "list", Usage: "list the keystore's keys", Action: keyList},
			{Name: "import", Usage: "import a v3 key file or a hex private key under a name", ArgsUsage: "NAME FILE-OR-HEX", Action: keyImport},
			{Name: "export", Usage: "print a key's encrypted v3 key file", ArgsUsage: "NAME-OR-ADDRESS", Action: keyExport},
		},
	}}
}

func printKey(c *cli.Context, verb string, k wallet.KeyInfo) error {
	return output(c, k, func(w io.Writer) error {
		_, err := fmt.Fprintf(w, "%s key %s %s\nfile %s\n", verb, k.Name, k.Address.Hex(), k.File)
		return err
	})
}

func keyNew(c *cli.Context) error {
	a, err := args(c, 1)
	if err != nil {
		return err
	}
	if !wallet.ValidName(a[0]) {
		return usagef("invalid key name %q: use 1 to 64 letters, digits, '.', '_' or '-', not starting with 0x", a[0])
	}
	ks, err := openKeystore(c)
	if err != nil {
		return err
	}
	pass, err := passphrases(c).Read("Passphrase for the new key: ", true)
	if err != nil {
		return err
	}
	k, err := ks.New(a[0], pass)
	if err != nil {
		return err
	}
	return printKey(c, "created", k)
}

func keyList(c *cli.Context) error {
	if _, err := args(c, 0); err != nil {
		return err
	}
	ks, err := openKeystore(c)
	if err != nil {
		return err
	}
	keys, err := ks.List()
	if err != nil {
		return err
	}
	if keys == nil {
		keys = []wallet.KeyInfo{}
	}
	return output(c, keys, func(w io.Writer) error { return human.WriteKeys(w, keys) })
}

func keyImport(c *cli.Context) error {
	a, err := args(c, 2)
	if err != nil {
		return err
	}
	name, source := a[0], a[1]
	if !wallet.ValidName(name) {
		return usagef("invalid key name %q: use 1 to 64 letters, digits, '.', '_' or '-', not starting with 0x", name)
	}
	ks, err := openKeystore(c)
	if err != nil {
		return err
	}
	pp := passphrases(c)
	var filePass, newPass string
	if fi, statErr := os.Stat(source); statErr == nil && fi.Mode().IsRegular() {
		if filePass, err = pp.Read("Passphrase of the key file: ", false); err != nil {
			return err
		}
		// From a file or the environment, the one passphrase also encrypts the stored copy.
		newPass = filePass
	}
	if pp.Interactive() || newPass == "" {
		if newPass, err = pp.Read("Passphrase for the imported key: ", true); err != nil {
			return err
		}
	}
	k, err := ks.Import(name, source, filePass, newPass)
	if err != nil {
		return err
	}
	return printKey(c, "imported", k)
}

func keyExport(c *cli.Context) error {
	a, err := args(c, 1)
	if err != nil {
		return err
	}
	ks, err := openKeystore(c)
	if err != nil {
		return err
	}
	data, err := ks.Export(a[0])
	if err != nil {
		return err
	}
	// The key file is JSON already: the same document with or without --json.
	if len(data) == 0 || data[len(data)-1] != '\n' {
		data = append(data, '\n')
	}
	_, err = c.App.Writer.Write(data)
	return err
}

package main

import (
	"fmt"
	"io"
	"os"
	"strings"

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
			{Name: "import", Usage: "import a v3 key file, or a hex private key from a file or stdin (-), under a name", ArgsUsage: "NAME FILE|-", Action: keyImport},
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

// maxKeyInput bounds what key import reads (a v3 key file is under 1 KiB).
const maxKeyInput = 1 << 20

// keyImport reads the key from a file, or from stdin with "-": a v3 key file or a hex private
// key. A hex key given as the argument itself is refused: shells keep it in their history and
// other users see it in the process list.
func keyImport(c *cli.Context) error {
	a, err := args(c, 2)
	if err != nil {
		return err
	}
	name, source := a[0], a[1]
	if !wallet.ValidName(name) {
		return usagef("invalid key name %q: use 1 to 64 letters, digits, '.', '_' or '-', not starting with 0x", name)
	}
	var data []byte
	if source == "-" {
		source = "stdin"
		if data, err = readLimited(c.App.Reader, maxKeyInput); err != nil {
			return fmt.Errorf("key import: stdin: %w", err)
		}
	} else {
		fi, statErr := os.Stat(source)
		switch {
		case statErr != nil && looksLikeKey(source):
			return usagef("key import: refusing a private key given on the command line (shells keep it in their history, other users see it in the process list): "+
				"put it in a file only you can read and run `loyal key import %s FILE`, or pipe it in: `loyal key import %s - < FILE`", name, name)
		case statErr != nil:
			return fmt.Errorf("key import: %w", statErr)
		case !fi.Mode().IsRegular():
			return fmt.Errorf("key import: %s is not a regular file", source)
		}
		f, err := os.Open(source)
		if err != nil {
			return fmt.Errorf("key import: %w", err)
		}
		data, err = readLimited(f, maxKeyInput)
		f.Close()
		if err != nil {
			return fmt.Errorf("key import: %s: %w", source, err)
		}
	}
	defer clear(data)
	ks, err := openKeystore(c)
	if err != nil {
		return err
	}
	pp := passphrases(c)
	var filePass, newPass string
	if !wallet.IsHexKey(string(data)) { // a v3 key file: it has a passphrase of its own
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
	k, err := ks.ImportData(name, source, data, filePass, newPass)
	if err != nil {
		return err
	}
	return printKey(c, "imported", k)
}

// looksLikeKey reports whether s could be a private key, whole or mistyped (32 or more hex
// digits): one that must not be echoed, and is refused as an argument.
func looksLikeKey(s string) bool {
	s = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
	return len(s) >= 32 && strings.Trim(s, "0123456789abcdefABCDEF") == ""
}

// readLimited reads r to its end, failing past limit bytes.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		clear(data)
		return nil, fmt.Errorf("more than %d bytes: not a key", limit)
	}
	return data, nil
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

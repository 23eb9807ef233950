package wallet

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// EnvPassphrase names the environment variable a passphrase may come from.
const EnvPassphrase = "LOYAL_PASSPHRASE"

// maxPassphraseBytes bounds the first line read from a passphrase file.
const maxPassphraseBytes = 64 << 10

// Passphrases is where passphrases come from, in order: File (its first line, without
// the line ending), else the environment variable LOYAL_PASSPHRASE if set and not empty,
// else a prompt on the terminal with echo off. The zero value uses the environment and
// the process's stdin and stderr.
type Passphrases struct {
	File   string              // --passphrase-file; "" for none
	Getenv func(string) string // nil: os.Getenv
	In     *os.File            // the terminal to read from; nil: os.Stdin
	Out    io.Writer           // where prompts go; nil: os.Stderr
}

// Read returns a passphrase. prompt is shown when asking on the terminal; with confirm
// (when the passphrase will encrypt a new key) the terminal asks twice and the two must
// match, and an empty passphrase is refused whatever the source.
func (p *Passphrases) Read(prompt string, confirm bool) (string, error) {
	pass, err := p.read(prompt, confirm)
	if err != nil {
		return "", err
	}
	if confirm && pass == "" {
		return "", errors.New("wallet: empty passphrase: a new key needs a passphrase")
	}
	return pass, nil
}

// Interactive reports whether Read would prompt on the terminal (no file, no environment
// variable).
func (p *Passphrases) Interactive() bool {
	return p.File == "" && p.getenv(EnvPassphrase) == ""
}

func (p *Passphrases) getenv(k string) string {
	if p.Getenv == nil {
		return os.Getenv(k)
	}
	return p.Getenv(k)
}

func (p *Passphrases) read(prompt string, confirm bool) (string, error) {
	if p.File != "" {
		return readFirstLine(p.File)
	}
	if v := p.getenv(EnvPassphrase); v != "" {
		return v, nil
	}
	in, out := p.In, p.Out
	if in == nil {
		in = os.Stdin
	}
	if out == nil {
		out = os.Stderr
	}
	fd := int(in.Fd())
	if !term.IsTerminal(fd) {
		return "", fmt.Errorf("%w: stdin is not a terminal; use --passphrase-file FILE or set %s", ErrNoPassphrase, EnvPassphrase)
	}
	first, err := promptHidden(fd, out, prompt)
	if err != nil || !confirm {
		return first, err
	}
	second, err := promptHidden(fd, out, "Repeat passphrase: ")
	if err != nil {
		return "", err
	}
	if first != second {
		return "", errors.New("wallet: the passphrases do not match")
	}
	return first, nil
}

func promptHidden(fd int, out io.Writer, prompt string) (string, error) {
	fmt.Fprint(out, prompt)
	b, err := term.ReadPassword(fd)
	fmt.Fprintln(out)
	if err != nil {
		return "", fmt.Errorf("wallet: reading the passphrase: %w", err)
	}
	s := string(b)
	clear(b)
	return s, nil
}

// readFirstLine returns a file's first line without its "\n" or "\r\n".
func readFirstLine(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("wallet: passphrase file: %w", err)
	}
	defer f.Close()
	line, err := bufio.NewReader(io.LimitReader(f, maxPassphraseBytes)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("wallet: passphrase file %s: %w", path, err)
	}
	if errors.Is(err, io.EOF) && len(line) == maxPassphraseBytes {
		return "", fmt.Errorf("wallet: passphrase file %s: first line exceeds %d bytes", path, maxPassphraseBytes)
	}
	line = strings.TrimSuffix(line, "\n")
	return strings.TrimSuffix(line, "\r"), nil
}

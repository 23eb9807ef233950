package wallet

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPassphraseSources(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	notTTY, err := os.Open(write("stdin", ""))
	if err != nil {
		t.Fatal(err)
	}
	defer notTTY.Close()
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == EnvPassphrase {
				return v
			}
			return ""
		}
	}

	tests := []struct {
		name    string
		p       Passphrases
		confirm bool
		want    string
		wantErr string
	}{
		{"file: first line without its newline", Passphrases{File: write("a", "secret\nsecond line\n"), Getenv: env("env")}, false, "secret", ""},
		{"file: CRLF line ending", Passphrases{File: write("b", "secret\r\n")}, false, "secret", ""},
		{"file: no newline at all", Passphrases{File: write("c", "secret")}, false, "secret", ""},
		{"file: spaces are kept", Passphrases{File: write("d", " se cret \n")}, false, " se cret ", ""},
		{"file beats the environment", Passphrases{File: write("e", "from-file\n"), Getenv: env("from-env")}, false, "from-file", ""},
		{"environment when no file", Passphrases{Getenv: env("from-env"), In: notTTY}, false, "from-env", ""},
		{"missing file", Passphrases{File: filepath.Join(dir, "nope")}, false, "", "passphrase file"},
		{"empty passphrase is refused for a new key", Passphrases{File: write("f", "\n")}, true, "", "empty passphrase"},
		{"empty passphrase may unlock", Passphrases{File: write("g", "\n")}, false, "", ""},
		{"no source and no terminal", Passphrases{Getenv: env(""), In: notTTY}, false, "", "--passphrase-file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			tt.p.Out = &out
			got, err := tt.p.Read("Passphrase: ", tt.confirm)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Read = %q, %v; want %q", got, err, tt.want)
			}
			if out.Len() != 0 {
				t.Errorf("prompted %q without a terminal", out.String())
			}
		})
	}

	p := Passphrases{Getenv: env(""), In: notTTY}
	if _, err := p.Read("", false); !errors.Is(err, ErrNoPassphrase) || !strings.Contains(err.Error(), EnvPassphrase) {
		t.Errorf("err = %v, want ErrNoPassphrase naming %s", err, EnvPassphrase)
	}
}

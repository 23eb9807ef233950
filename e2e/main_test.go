package e2e

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// bin holds the paths of the binaries TestMain built.
var bin struct {
	loyald, loyal string
}

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run()) // the tests skip themselves; no need to build
	}
	os.Exit(buildAndRun(m))
}

// buildAndRun builds both binaries into a temporary directory, runs the tests and removes
// the directory.
func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "loyal-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	if err := build(dir); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	return m.Run()
}

// build runs `go build` for cmd/loyald and cmd/loyal from the module root into dir.
func build(dir string) error {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("the go tool is needed to build the binaries: %w", err)
	}
	out, err := exec.Command(goTool, "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return errors.New("go env GOMOD: not inside the loyal module")
	}
	root := filepath.Dir(gomod)
	bin.loyald = filepath.Join(dir, "loyald")
	bin.loyal = filepath.Join(dir, "loyal")
	for _, b := range []struct{ out, pkg string }{{bin.loyald, "./cmd/loyald"}, {bin.loyal, "./cmd/loyal"}} {
		cmd := exec.Command(goTool, "build", "-o", b.out, b.pkg)
		cmd.Dir = root
		var log bytes.Buffer
		cmd.Stdout, cmd.Stderr = &log, &log
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build -o %s %s (in %s): %v\n%s", b.out, b.pkg, root, err, log.String())
		}
	}
	return nil
}

// needBinaries skips t under -short, where TestMain built nothing.
func needBinaries(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the real binaries (skipped with -short)")
	}
}

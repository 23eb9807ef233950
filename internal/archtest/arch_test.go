// Package archtest holds the layering rules of docs/ARCHITECTURE.md as tests, so that an
// import that breaks them fails CI instead of drifting in.
package archtest

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/loyal-ledger/loyal"

// deps lists the packages pkgs import, directly or not (go list -deps).
func deps(t *testing.T, pkgs ...string) []string {
	t.Helper()
	args := append([]string{"list", "-deps"}, pkgs...)
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		t.Fatalf("go %s: %v", strings.Join(args, " "), err)
	}
	return strings.Fields(string(out))
}

// imports lists the module's own packages pkg imports directly.
func imports(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, pkg).Output()
	if err != nil {
		t.Fatalf("go list %s: %v", pkg, err)
	}
	var own []string
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, module+"/") {
			own = append(own, strings.TrimPrefix(p, module+"/"))
		}
	}
	return own
}

// No storage engine, network stack or node code reaches the pure ledger, the API types, the
// wallet library or the wallet CLI: customers and auditors link none of it.
func TestClientsLinkNoEngineAndNoNode(t *testing.T) {
	forbidden := []string{
		"github.com/cockroachdb/pebble", "github.com/dgraph-io/badger/v4", "github.com/libp2p/go-libp2p",
		module + "/node", module + "/chain/ledger", module + "/p2p",
	}
	for _, pkg := range []string{module + "/chain", module + "/api", module + "/wallet", module + "/cmd/loyal", module + "/audit/export", module + "/audit/verify", module + "/audit/remote", module + "/audit/proof", module + "/audit/report"} {
		d := deps(t, pkg)
		for _, f := range forbidden {
			if slices.Contains(d, f) {
				t.Errorf("%s depends on %s", pkg, f)
			}
		}
	}
}

// Each package imports only the module packages its layer allows.
func TestLayers(t *testing.T) {
	for pkg, allowed := range map[string][]string{
		"api":                          {"chain"},
		"audit/export":                 {"chain"},
		"audit/verify":                 {"chain", "chain/smt"},
		"audit/report":                 {"audit/verify", "chain"},
		"audit/remote":                 {"api", "audit/export", "chain", "internal/fsutil", "wallet"},
		"audit/proof":                  {"api", "audit/verify", "chain", "chain/merkle", "chain/smt", "internal/jsonstrict"},
		"audit/internal/testchain":     {"audit/export", "chain", "chain/ledger", "chain/store/backends"},
		"chain":                        {"chain/merkle", "chain/smt", "internal/jsonstrict", "internal/keysort", "internal/wire"},
		"chain/smt":                    {},
		"chain/merkle":                 {},
		"chain/store":                  {},
		"chain/store/internal/backend": {"chain/store"},
		"chain/store/pebble":           {"chain/store", "chain/store/internal/backend"},
		"chain/store/badger":           {"chain/store", "chain/store/internal/backend", "internal/keysort"},
		"chain/store/backends":         {"chain/store", "chain/store/badger", "chain/store/pebble"},
		"chain/store/storetest":        {"chain/store"},
		"chain/ledger":                 {"chain", "chain/smt", "chain/store", "internal/keysort"},
		"node/consensus":               {"chain", "internal/wire"},
		"node/httpapi":                 {"api", "chain", "chain/ledger", "internal/jsonstrict"},
		"node/internal/mempool":        {"chain"},
		"node/internal/blocksync":      {"chain", "chain/ledger"},
		"p2p":                          {"chain"},
		"node": {"api", "audit/export", "chain", "chain/ledger", "chain/store", "chain/store/backends", "internal/fsutil",
			"internal/jsonstrict", "node/consensus", "node/httpapi", "node/internal/blocksync", "node/internal/mempool", "p2p"},
		"wallet":            {"api", "chain", "internal/fsutil"},
		"internal/human":    {"api", "audit/report", "audit/verify", "chain", "internal/safetext", "wallet"},
		"internal/safetext": {},
		"testnet":           {"chain", "chain/ledger", "node", "node/consensus", "p2p", "wallet"},
		"internal/cliargs":  {},
		"cmd/loyal":         {"api", "audit/export", "audit/proof", "audit/remote", "audit/report", "audit/verify", "chain", "internal/cliargs", "internal/fsutil", "internal/human", "internal/jsonstrict", "wallet"},
		"cmd/loyald":        {"chain", "internal/cliargs", "internal/safetext", "node", "testnet", "wallet"},
	} {
		for _, imp := range imports(t, module+"/"+pkg) {
			if !slices.Contains(allowed, imp) {
				t.Errorf("%s imports %s; its layer allows %v", pkg, imp, allowed)
			}
		}
	}
}

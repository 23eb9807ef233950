package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
)

// --operator node names the node's operator key; while the node holds none that loads (its
// status names the zero address), the command refuses rather than list the zero address.
func TestOperatorNodeWithNoKeyRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/status" {
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(api.Status{ChainID: 1, Operators: []chain.Address{}})
	}))
	defer srv.Close()
	failsWith(t, 1, "--operator node: the node holds no valid operator key now (its log says why); give the key's address instead",
		"--node", srv.URL, "--keystore", t.TempDir(), "program", "update", "--symbol", "ACME", "--operator", "node", "--from", "0x0000000000000000000000000000000000000001")
}

package remote_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/audit/internal/testchain"
	"github.com/loyal-ledger/loyal/audit/remote"
	"github.com/loyal-ledger/loyal/audit/verify"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/wallet"
)

// lyingNode serves c's chain — real blocks, built and certified by the ledger — over real
// HTTP, as a node would, one block a page; tweak may rewrite a page's JSON, and a page from
// hangFrom on never answers (until the test ends). It is the hostile node an auditor must
// survive.
func lyingNode(t *testing.T, c *testchain.Chain, tweak func(from uint64, page []byte) []byte, hangFrom uint64) *httptest.Server {
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		head := uint64(len(c.Blocks))
		switch {
		case r.URL.Path == "/v1/genesis":
			json.NewEncoder(w).Encode(c.Genesis)
		case r.URL.Path == "/v1/status":
			json.NewEncoder(w).Encode(api.Status{ChainID: c.Genesis.ChainID, GenesisHash: c.Genesis.Hash(), Height: head})
		case r.URL.Path == "/v1/blocks":
			from, _ := strconv.ParseUint(r.URL.Query().Get("from"), 10, 64)
			if hangFrom != 0 && from >= hangFrom {
				select {
				case <-done:
				case <-r.Context().Done():
				}
				return
			}
			info := api.BlockInfo{Block: c.Blocks[from-1], Hash: c.Blocks[from-1].Hash(), Canonical: true}
			if from < head {
				info.Commit = c.Blocks[from].LastCommit
			} else {
				info.Commit, info.Canonical = c.Final, false
			}
			raw, _ := json.Marshal(api.Blocks{Height: head, Blocks: []api.BlockInfo{info}})
			if tweak != nil {
				raw = tweak(from, raw)
			}
			w.Write(raw)
		case strings.HasPrefix(r.URL.Path, "/v1/blocks/"):
			h, _ := strconv.ParseUint(strings.TrimPrefix(r.URL.Path, "/v1/blocks/"), 10, 64)
			info := api.BlockInfo{Block: c.Blocks[h-1], Commit: c.Final}
			json.NewEncoder(w).Encode(info)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(func() { close(done); srv.Close() })
	return srv
}

func openLying(t *testing.T, url string) *remote.Source {
	t.Helper()
	src, err := remote.Open(context.Background(), &wallet.Client{BaseURL: url}, 0)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// verifyWithin runs Verify, failing t if it has not returned within a minute.
func verifyWithin(t *testing.T, src verify.Source) (*verify.Report, error) {
	t.Helper()
	type result struct {
		rep *verify.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := verify.Verify(context.Background(), src, verify.Options{})
		done <- result{rep, err}
	}()
	select {
	case r := <-done:
		return r.rep, r.err
	case <-time.After(time.Minute):
		t.Fatal("Verify did not return")
		return nil, nil
	}
}

// An honest node's chain verifies through the source.
func TestHonestNodeVerifies(t *testing.T) {
	c := testchain.Build(t, testchain.Options{Blocks: 2})
	rep, err := verifyWithin(t, openLying(t, lyingNode(t, c, nil, 0).URL))
	if err != nil || rep.Height != uint64(len(c.Blocks)) {
		t.Fatalf("%+v %v", rep, err)
	}
}

// A null transaction in a block's JSON (which the binary form cannot hold) is refused as
// malformed: it used to crash the verifier's worker, and the export.
func TestNullTransactionIsRefused(t *testing.T) {
	c := testchain.Build(t, testchain.Options{Blocks: 2})
	srv := lyingNode(t, c, func(from uint64, page []byte) []byte {
		if from != 2 {
			return page
		}
		return []byte(strings.Replace(string(page), `"txs":[`, `"txs":[null,`, 1))
	}, 0)
	rep, err := verifyWithin(t, openLying(t, srv.URL))
	if !errors.Is(err, verify.ErrFailed) || rep.Failure == nil || rep.Failure.Height != 2 || rep.Failure.Check != verify.CheckRead {
		t.Fatalf("verify: %+v %v", rep.Failure, err)
	}
	if _, err := remote.Export(context.Background(), &wallet.Client{BaseURL: srv.URL}, io.Discard, 0); !errors.Is(err, chain.ErrMalformed) {
		t.Fatalf("export: %v, want malformed", err)
	}
}

// A node that answers block 1 wrong and then never answers again: Verify reports block 1
// without waiting for the node (it used to wait for the reader stuck in the request).
func TestVerifyDoesNotWaitForAStalledNode(t *testing.T) {
	c := testchain.Build(t, testchain.Options{Blocks: 2})
	srv := lyingNode(t, c, func(from uint64, page []byte) []byte {
		if from == 1 {
			var p api.Blocks
			if err := json.Unmarshal(page, &p); err != nil {
				t.Error(err)
			}
			p.Blocks[0].Block.Header.StateRoot = chain.Hash{1}
			page, _ = json.Marshal(p)
		}
		return page
	}, 2)
	rep, err := verifyWithin(t, openLying(t, srv.URL))
	if !errors.Is(err, verify.ErrFailed) || rep.Failure == nil || rep.Failure.Height != 1 {
		t.Fatalf("%+v %v", rep.Failure, err)
	}
}

// A connection dropped mid-chain is a failure to read at that height, not the chain's end.
func TestDroppedConnectionIsNotTheEnd(t *testing.T) {
	c := testchain.Build(t, testchain.Options{Blocks: 2})
	inner := lyingNode(t, c, nil, 0)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/blocks" && r.URL.Query().Get("from") == "3" {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		resp, err := http.Get(inner.URL + r.URL.String())
		if err != nil {
			t.Error(err)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer srv.Close()
	rep, err := verifyWithin(t, openLying(t, srv.URL))
	if !errors.Is(err, verify.ErrFailed) || rep.Failure == nil || rep.Failure.Height != 3 || rep.Failure.Check != verify.CheckRead {
		t.Fatalf("%+v %v", rep.Failure, err)
	}
}

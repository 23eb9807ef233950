package testnet_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/testnet"
)

// servedBlock is a block as GET /v1/blocks/{height} served it, with its certificate's JSON
// exactly as it came.
type servedBlock struct {
	info   api.BlockInfo
	commit json.RawMessage
}

// getBlock fetches block height from node i's API.
func (h *harness) getBlock(i int, height uint64) servedBlock {
	h.t.Helper()
	url := h.c.URL(i) + "/v1/blocks/" + strconv.FormatUint(height, 10)
	req, err := http.NewRequestWithContext(ctxFor(h.t, 10*time.Second), http.MethodGet, url, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		h.t.Fatalf("GET %s: %d %s %v", url, resp.StatusCode, body, err)
	}
	var b servedBlock
	var raw struct {
		Commit json.RawMessage `json:"commit"`
	}
	if err := json.Unmarshal(body, &b.info); err != nil {
		h.t.Fatalf("GET %s: %v", url, err)
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		h.t.Fatalf("GET %s: %v", url, err)
	}
	b.commit = raw.Commit
	return b
}

// Four honest validators serve one certificate per block, byte for byte: for every block
// below the head the one the next block carries and its header commits to, marked
// canonical; the head's is the precommits each collected, marked not canonical. Until
// canonical certificates were served, each node answered with the precommits it happened to
// collect, and they differed.
func TestNodesServeTheCanonicalCertificate(t *testing.T) {
	h := newHarness(t, testnet.ClusterOptions{Validators: 4})
	alice := newKey(t)
	var head uint64
	for i := 0; i < 8; i++ {
		head = h.commit(i%4, h.c.Owner, h.earn(addr(alice), 1, "o-"+strconv.Itoa(i))).Height
	}
	// An idle network makes no block before the heartbeat (a minute): head stays the head.
	for i := 0; i < 4; i++ {
		h.waitHeight(i, head)
	}
	r := h.c.Genesis.Rules()           // no block changes the validators here
	served := make([][]servedBlock, 4) // by node, then height
	for i := range served {
		served[i] = make([]servedBlock, head+1)
		for height := uint64(1); height <= head; height++ {
			served[i][height] = h.getBlock(i, height)
		}
		// The range serves each block as the single read does.
		var ranged uint64
		err := h.c.Client(i).EachBlock(ctxFor(t, 30*time.Second), 1, head, func(b api.BlockInfo) error {
			ranged++
			one := served[i][b.Block.Header.Height].info
			if b.Hash != one.Hash || b.Canonical != one.Canonical || !bytes.Equal(b.Commit.Encode(), one.Commit.Encode()) {
				t.Errorf("node %d, block %d: the range serves %+v, the single read %+v", i, b.Block.Header.Height, b, one)
			}
			return nil
		})
		if err != nil || ranged != head {
			t.Fatalf("node %d: the range served %d blocks of %d: %v", i, ranged, head, err)
		}
		if got := h.height(i); got != head {
			t.Fatalf("node %d moved on to height %d while the test read it", i, got)
		}
	}
	for i, blocks := range served {
		for height := uint64(1); height <= head; height++ {
			b := blocks[height].info
			if b.Commit == nil || b.Commit.Height != height || b.Commit.BlockHash != b.Hash {
				t.Fatalf("node %d, block %d: certificate %+v of block %s", i, height, b.Commit, b.Hash)
			}
			if err := chain.VerifyCommit(r.ChainID, r.Validators, height, b.Hash, b.Commit); err != nil {
				t.Fatalf("node %d, block %d: %v", i, height, err)
			}
			if height == head {
				if b.Canonical {
					t.Errorf("node %d: the head's certificate is marked canonical", i)
				}
				continue
			}
			if !b.Canonical {
				t.Errorf("node %d, block %d below the head %d: certificate not marked canonical", i, height, head)
			}
			next := blocks[height+1].info.Block
			if b.Commit.Hash() != next.Header.LastCommitHash || !bytes.Equal(b.Commit.Encode(), next.LastCommit.Encode()) {
				t.Errorf("node %d, block %d: the certificate served is not the one block %d carries and commits to", i, height, height+1)
			}
			if want := served[0][height].commit; !bytes.Equal(blocks[height].commit, want) {
				t.Errorf("block %d: node %d serves certificate\n%s\nnode 0 serves\n%s", height, i, blocks[height].commit, want)
			}
		}
	}
}

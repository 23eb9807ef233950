package httpapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/chain"
)

// The governance reads stay bounded however many proposals a chain holds: GET /v1/partners
// finds the open ones without reading those that expired, and lists at most a page;
// GET /v1/governance/proposals pages with from and limit and names the next page.
func TestGovernanceReadsArePaged(t *testing.T) {
	beta, err := crypto.ToECDSA(crypto.Keccak256([]byte("loyal httpapi test beta")))
	if err != nil {
		t.Fatal(err)
	}
	c := newTestChainWith(t, chain.DefaultParams(), func(g *chain.Genesis) {
		g.Partners = append(g.Partners, chain.Partner{Name: "Beta", Address: crypto.PubkeyToAddress(beta.PublicKey)})
		g.ProtocolVersion, g.Governance = chain.Version2, &chain.GovernanceParams{ProposalSeconds: 3}
	})
	propose := func(n int) {
		var txs []*chain.Tx
		for range n {
			k, err := crypto.GenerateKey()
			if err != nil {
				t.Fatal(err)
			}
			txs = append(txs, c.sign(c.owner, &chain.Propose{Action: chain.ActionAdmitPartner, Partner: crypto.PubkeyToAddress(k.PublicKey), Name: "x"}))
		}
		c.produce(txs...)
	}
	for range 40 {
		propose(4) // block h holds ids 4h-3 … 4h, with deadlines genesis time + h + 3
	}
	ids := func(ps []api.ProposalInfo) []uint64 {
		var out []uint64
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	span := func(from, to uint64) []uint64 {
		var out []uint64
		for id := from; id <= to; id++ {
			out = append(out, id)
		}
		return out
	}
	var ps api.Partners
	c.getJSON("/v1/partners", &ps)
	// Head time is genesis + 40: blocks 37 to 40 are not past their deadline.
	if got := ids(ps.Proposals); !slices.Equal(got, span(145, 160)) || ps.OpenTruncated || len(ps.Partners) != 2 || ps.Version != 2 {
		t.Fatalf("open proposals %v (truncated %v), want 145…160; partners %+v", got, ps.OpenTruncated, ps.Partners)
	}
	if p := ps.Proposals[0]; p.Status != "open" || p.Counted != 1 || p.Needed != 2 {
		t.Fatalf("proposal 145: %+v", p)
	}
	walk := func(query string) []uint64 {
		var got []uint64
		from := uint64(1)
		for pages := 0; ; pages++ {
			if pages > 200 {
				t.Fatalf("%s: more than 200 pages", query)
			}
			var page api.Proposals
			c.getJSON("/v1/governance/proposals?limit=7&from="+strconv.FormatUint(from, 10)+query, &page)
			if len(page.Proposals) > 7 {
				t.Fatalf("a page of %d with limit=7", len(page.Proposals))
			}
			got = append(got, ids(page.Proposals)...)
			if page.Next == 0 {
				return got
			}
			if page.Next <= from {
				t.Fatalf("next %d after from %d", page.Next, from)
			}
			from = page.Next
		}
	}
	if got := walk(""); !slices.Equal(got, span(1, 160)) {
		t.Fatalf("paging every proposal gave %v", got)
	}
	if got := walk("&status=open"); !slices.Equal(got, span(145, 160)) {
		t.Fatalf("paging the open ones gave %v", got)
	}
	if got := walk("&status=expired"); !slices.Equal(got, span(1, 144)) {
		t.Fatalf("paging the expired ones gave %v", got)
	}
	for _, bad := range []string{"?limit=0", "?limit=101", "?from=0", "?from=x", "?status=pending"} {
		if status, body := c.get("/v1/governance/proposals" + bad); status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", bad, status, body)
		}
	}
	if status, _ := c.get("/v1/governance/proposals/999"); status != http.StatusNotFound {
		t.Errorf("an unknown proposal: %d", status)
	}

	propose(101) // 113 open now (ids 149 on): a page of them, and the flag
	c.getJSON("/v1/partners", &ps)
	if got := ids(ps.Proposals); len(got) != api.MaxProposalsPage || got[0] != 149 || !ps.OpenTruncated {
		t.Fatalf("with 113 open: %d listed from %v, truncated %v", len(got), got[:1], ps.OpenTruncated)
	}
}

// getJSON is GET path, which must answer 200 with JSON for v.
func (c *testChain) getJSON(path string, v any) {
	c.t.Helper()
	status, body := c.get(path)
	if status != http.StatusOK {
		c.t.Fatalf("GET %s: %d %s", path, status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
}

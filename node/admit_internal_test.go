package node

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/node/internal/mempool"
)

// A full pool is counted at every refusal and logged at most once per fullLogEvery, the line
// saying how many refusals it stands for.
func TestPoolFullLoggedOncePerInterval(t *testing.T) {
	var out bytes.Buffer
	now := time.Unix(1_750_000_000, 0)
	signer := chain.NewSigner(7, chain.Hash{1})
	n := &Node{
		log: slog.New(slog.NewTextHandler(&out, nil)), metrics: NewMetrics(), now: func() time.Time { return now },
		pool: mempool.New(mempool.Config{}, signer, 7, chain.DefaultParams()),
	}
	full := fmt.Errorf("%w: test", mempool.ErrFull)
	// Refusals at 0 s (logged), 1 s, 31 s, 60 s (logged: a minute since the last line, which
	// stands for the three since), 61 s and 62 s.
	for _, step := range []time.Duration{0, time.Second, 30 * time.Second, 29 * time.Second, time.Second, time.Second} {
		now = now.Add(step)
		n.poolFull(full)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "refused=1 ") || !strings.Contains(lines[1], "refused=3 ") {
		t.Fatalf("log:\n%s\nwant two lines, for 1 then 3 refusals", out.String())
	}
	var c float64
	if fams, err := n.metrics.Registry.Gather(); err == nil {
		for _, f := range fams {
			if f.GetName() == "loyal_mempool_full_total" {
				c = f.GetMetric()[0].GetCounter().GetValue()
			}
		}
	}
	if c != 6 {
		t.Fatalf("loyal_mempool_full_total = %v, want 6", c)
	}
}

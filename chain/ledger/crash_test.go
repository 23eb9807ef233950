package ledger_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/chain/store/backends"
)

// The crash test re-executes this test binary as a child that commits blocks in a loop and
// prints each committed height; the parent kills it with SIGKILL mid-stream, reopens the
// store and checks that every reported height survived, and that the state root recomputed
// from the stored state matches the head (Open refuses otherwise): a height is all there or
// not at all.
const crashChildEnv = "LOYAL_LEDGER_CRASH_CHILD"

func TestCrashChild(t *testing.T) {
	spec := os.Getenv(crashChildEnv)
	if spec == "" {
		t.Skip("helper process for TestCommitSurvivesKill")
	}
	backend, dir, _ := strings.Cut(spec, ":")
	net := newNetwork(t, chain.DefaultParams())
	nd := openNode(t, net, backend, dir)
	customers := make([]chain.Address, 200)
	for i := range customers {
		customers[i] = addr(testKey(t, fmt.Sprintf("customer %d", i)))
	}
	for h := 1; ; h++ {
		credits := make([]chain.Credit, len(customers))
		for i, c := range customers {
			credits[i] = chain.Credit{To: c, Amount: uint64(h), OrderRef: fmt.Sprintf("h%d-c%d", h, i)}
		}
		txs := []*chain.Tx{net.tx(t, net.partner, &chain.Earn{Program: "ACME", Credits: credits})}
		if h%4 == 0 {
			// Every fourth block is large (a batch of several MiB), so both of the store's
			// commit paths — small batches and large ones — are killed mid-stream.
			txs = append(txs, bulkEarns(t, net, h, 3)...)
		}
		nd.produce(t, genesisTime+uint64(h), txs...)
		fmt.Printf("committed %d\n", h)
	}
}

// bulkEarns returns n earns of 5,000 credits each to fresh addresses.
func bulkEarns(tb testing.TB, net *network, h, n int) []*chain.Tx {
	var txs []*chain.Tx
	for j := range n {
		credits := make([]chain.Credit, 5000)
		for i := range credits {
			ref := fmt.Sprintf("bulk-%d-%d-%d", h, j, i)
			credits[i] = chain.Credit{To: chain.Address(crypto.Keccak256Hash([]byte(ref)).Bytes()[12:]), Amount: 1, OrderRef: ref}
		}
		txs = append(txs, net.tx(tb, net.partner, &chain.Earn{Program: "ACME", Credits: credits}))
	}
	return txs
}

func TestCommitSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a child process")
	}
	for _, backend := range backends.Names {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
			cmd.Env = append(os.Environ(), crashChildEnv+"="+backend+":"+dir)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			reported := uint64(0)
			sc := bufio.NewScanner(out)
			deadline := time.Now().Add(5 * time.Minute)
			for sc.Scan() && time.Now().Before(deadline) {
				if h, ok := strings.CutPrefix(sc.Text(), "committed "); ok {
					reported, _ = strconv.ParseUint(h, 10, 64)
					if reported >= 15 {
						break
					}
				}
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			if reported < 15 {
				t.Fatalf("child committed only %d blocks before the deadline", reported)
			}

			net := newNetwork(t, chain.DefaultParams())
			nd := openNode(t, net, backend, dir) // fails if the state does not match the head
			defer nd.close(t)
			head := nd.l.Head()
			if head.Height < reported {
				t.Fatalf("reopened at height %d, but the child reported %d committed", head.Height, reported)
			}
			for h := uint64(1); h <= head.Height; h++ {
				blk, err := nd.l.Block(h)
				if err != nil {
					t.Fatalf("block %d: %v", h, err)
				}
				if blk.Header.Height != h {
					t.Fatalf("block %d stored as %d", h, blk.Header.Height)
				}
			}
			// Customer 0 earned h at every height: the balance is exactly the sum.
			want := head.Height * (head.Height + 1) / 2
			if got := nd.balance(t, addr(testKey(t, "customer 0")), "ACME"); got != want {
				t.Fatalf("customer 0 holds %d after %d blocks, want %d", got, head.Height, want)
			}
		})
	}
}

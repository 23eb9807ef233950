package node

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/loyal-ledger/loyal/api"
	"github.com/loyal-ledger/loyal/node/consensus"
)

// evidenceFile holds the conflicting signed messages this node has seen, one JSON object per
// line, appended and synced.
const evidenceFile = "evidence.jsonl"

// maxEvidence bounds what is kept (a byzantine validator could otherwise fill the disk).
const maxEvidence = 10_000

// evidenceLog keeps proof of equivocation: two signed votes (or proposals) of one validator
// for the same height, round and type with different blocks. Anyone can check them with the
// validator's address alone.
type evidenceLog struct {
	mu   sync.Mutex
	path string
	list []api.Evidence
	seen map[string]bool
}

func openEvidence(path string) (*evidenceLog, error) {
	e := &evidenceLog{path: path, seen: map[string]bool{}}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return e, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var ev api.Evidence
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			break // a torn last line after a crash: keep what is whole
		}
		e.list = append(e.list, ev)
		e.seen[ev.A+ev.B] = true
	}
	return e, nil
}

func (e *evidenceLog) addVotes(a, b consensus.Vote) {
	e.add(api.Evidence{Kind: "vote", Validator: a.Validator, Height: a.Height, Round: a.Round,
		A: hex.EncodeToString(a.Encode()), B: hex.EncodeToString(b.Encode())})
}

func (e *evidenceLog) addProposals(a, b consensus.Proposal) {
	e.add(api.Evidence{Kind: "proposal", Validator: a.Proposer, Height: a.Height, Round: a.Round,
		A: hex.EncodeToString(a.Encode()), B: hex.EncodeToString(b.Encode())})
}

func (e *evidenceLog) add(ev api.Evidence) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.seen[ev.A+ev.B] || e.seen[ev.B+ev.A] || len(e.list) >= maxEvidence {
		return
	}
	e.seen[ev.A+ev.B] = true
	e.list = append(e.list, ev)
	line, _ := json.Marshal(ev)
	if err := appendLine(e.path, line); err != nil {
		fmt.Fprintf(os.Stderr, "loyald: cannot persist evidence: %v\n", err)
	}
}

func (e *evidenceLog) all() []api.Evidence {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]api.Evidence(nil), e.list...)
}

func appendLine(path string, line []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Evidence lists the equivocations this node has seen.
func (n *Node) Evidence() []api.Evidence { return n.evidence.all() }

package consensus

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loyal-ledger/loyal/chain"
)

var update = flag.Bool("update", false, "rewrite the expected output of testdata/*.txt scripts")

// TestScripts replays testdata/*.txt: each block is a command, "----", and the actions it
// must produce, one per line (datadriven style, as etcd-io/raft's tests). Run with -update to
// rewrite the expected output after a deliberate change, then read the diff.
//
// Commands (h defaults to the engine's height, now is a clock in Unix seconds that persists):
//
//	init n=4 self=0 [drift=5s] [signer=fail]   a new engine; self=-1 is an observer
//	height h=1 [ptime=1000] [parent=G] [now=T] [vals=0,1,2] [next=0,1,3]
//	                                            step NewHeight, with Validators and
//	                                            NextValidators v0,v1,... if given (nil if not)
//	proposal from=1 r=0 block=A [time=T] [pol=-1 [polfrom=1,2,3]] [valid=false] [h=1] [now=T]
//	prevote from=1,2,3 r=0 block=A [h=1]       (also precommit); block=nil votes nil
//	timeout step=propose r=0 [h=1]
//	built r=0 block=A [time=T] [h=1]
//	restart                                     a new engine from the last Persist, its
//	                                            Config.Validators the set at the current height
//	status
//
// Every script also checks, on every step, that each own message is broadcast only after a
// Persist that holds it and that no two conflicting messages are ever signed, across
// restarts, and that every certificate verifies against the validator set of its height
// (as the script's NewHeights name them: a height without vals= has the set the engine
// keeps, the previous next= or the current set).
func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			r := &scriptRunner{t: t, names: map[chain.Hash]string{}, signed: map[string]string{}, persistedMsgs: map[string]bool{}}
			var out strings.Builder
			for _, c := range parseScript(t, string(data)) {
				got := r.run(c.cmd)
				if *update {
					fmt.Fprintf(&out, "%s%s\n----\n%s", c.lead, c.cmd, got)
					continue
				}
				if got != c.want {
					t.Errorf("%s:%d: %s\ngot:\n%swant:\n%s", file, c.line, c.cmd, got, c.want)
				}
			}
			if *update {
				if err := os.WriteFile(file, []byte(out.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

type scriptCase struct {
	lead string // comments and blank lines before the command
	cmd  string
	line int
	want string
}

func parseScript(t *testing.T, data string) []scriptCase {
	lines := strings.Split(data, "\n")
	var cases []scriptCase
	var lead strings.Builder
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			if i < len(lines)-1 || l != "" {
				lead.WriteString(l + "\n")
			}
			continue
		}
		c := scriptCase{lead: lead.String(), cmd: l, line: i + 1}
		lead.Reset()
		if i+1 >= len(lines) || lines[i+1] != "----" {
			t.Fatalf("line %d: %q is not followed by ----", i+1, l)
		}
		i += 2
		var want strings.Builder
		for ; i < len(lines) && lines[i] != ""; i++ {
			want.WriteString(lines[i] + "\n")
		}
		c.want = want.String()
		cases = append(cases, c)
		if i < len(lines)-1 {
			lead.WriteString("\n")
		}
	}
	return cases
}

type scriptRunner struct {
	t         *testing.T
	cfg       Config
	eng       *Engine
	now       int64
	persisted *SignedState
	// persistedMsgs holds every own message that was in some Persist; signed maps each own
	// (type, height, round) to the block it signed.
	persistedMsgs map[string]bool
	signed        map[string]string
	names         map[chain.Hash]string
	// The validator sets: at each height stepped, and the current height's and next one's.
	setAt     map[uint64][]chain.Address
	height    uint64
	cur, next []chain.Address
}

func (r *scriptRunner) run(cmd string) string {
	t := r.t
	fields := strings.Fields(cmd)
	args := map[string]string{}
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			t.Fatalf("%s: argument %q is not key=value", cmd, f)
		}
		args[k] = v
	}
	num := func(k string, def int64) int64 {
		s, ok := args[k]
		if !ok {
			return def
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("%s: %s=%q: %v", cmd, k, s, err)
		}
		return n
	}
	block := func(k string) chain.Hash {
		name, ok := args[k]
		if !ok {
			t.Fatalf("%s: missing %s=", cmd, k)
		}
		h := blockHash(name)
		if name != "nil" {
			r.names[h] = name
		}
		return h
	}
	if _, ok := args["now"]; ok {
		r.now = num("now", 0)
	}
	now := time.Unix(r.now, 0)
	var h, round uint64
	if r.eng != nil {
		h = uint64(num("h", int64(r.eng.Status().Height)))
		round = uint64(num("r", 0))
	}
	var acts []Action
	var err error
	switch fields[0] {
	case "init":
		r.cfg = testConfig(int(num("n", 4)), int(num("self", 0)))
		if d, ok := args["drift"]; ok {
			r.cfg.MaxDrift, err = time.ParseDuration(d)
			if err != nil {
				t.Fatal(err)
			}
		}
		if args["signer"] == "fail" {
			r.cfg.Signer = failingSigner{r.cfg.Self}
		}
		r.eng, err = New(r.cfg, nil)
		r.now, r.persisted = 1000, nil
		r.signed, r.persistedMsgs = map[string]string{}, map[string]bool{}
		r.setAt, r.height, r.cur, r.next = map[uint64][]chain.Address{}, 0, r.cfg.Validators, r.cfg.Validators
		r.names[blockHash("G")] = "G"
	case "restart":
		r.cfg.Validators = r.cur
		r.eng, err = New(r.cfg, r.persisted)
	case "height":
		if _, ok := args["now"]; !ok && args["ptime"] != "" {
			r.now = num("ptime", 0)
			now = time.Unix(r.now, 0)
		}
		parent := "G"
		if p, ok := args["parent"]; ok {
			parent = p
			r.names[blockHash(p)] = p
		}
		nh := NewHeight{Now: now, Height: uint64(num("h", 1)), ParentHash: blockHash(parent), ParentTime: uint64(num("ptime", 1000)),
			Validators: r.addrs(cmd, args["vals"]), NextValidators: r.addrs(cmd, args["next"])}
		acts, err = r.eng.Step(nh)
		if err == nil {
			cur := nh.Validators
			if cur == nil && r.height > 0 && nh.Height == r.height+1 {
				cur = r.next
			} else if cur == nil {
				cur = r.cur
			}
			next := nh.NextValidators
			if next == nil {
				next = cur
			}
			r.height, r.cur, r.next = nh.Height, cur, next
			r.setAt[nh.Height] = cur
		}
	case "proposal":
		p := signedProposal(t, int(num("from", 0)), h, uint32(round), int32(num("pol", -1)), block("block"), uint64(num("time", r.now)))
		var pol []Vote
		if from, ok := args["polfrom"]; ok {
			for _, f := range strings.Split(from, ",") {
				i, _ := strconv.Atoi(f)
				pol = append(pol, signedVote(t, i, chain.Prevote, h, uint32(p.POLRound), p.BlockHash))
			}
		}
		acts, err = r.eng.Step(ProposalReceived{Now: now, Proposal: p, POL: pol, BlockValid: args["valid"] != "false"})
	case "prevote", "precommit":
		typ := chain.Prevote
		if fields[0] == "precommit" {
			typ = chain.Precommit
		}
		hash := block("block")
		for _, from := range strings.Split(args["from"], ",") {
			i, _ := strconv.Atoi(from)
			var a []Action
			a, err = r.eng.Step(VoteReceived{Now: now, Vote: signedVote(t, i, typ, h, uint32(round), hash)})
			acts = append(acts, a...)
			if err != nil {
				break
			}
		}
	case "timeout":
		step := map[string]Step{"propose": StepPropose, "prevote": StepPrevote, "precommit": StepPrecommit}[args["step"]]
		acts, err = r.eng.Step(TimeoutFired{Now: now, Height: h, Round: uint32(round), Step: step})
	case "built":
		acts, err = r.eng.Step(BlockBuilt{Now: now, Height: h, Round: uint32(round), BlockHash: block("block"), BlockTime: uint64(num("time", r.now))})
	case "status":
		s := r.eng.Status()
		out := fmt.Sprintf("h=%d r=%d step=%v locked=%s valid=%s", s.Height, s.Round, s.Step, r.ref(s.Locked), r.ref(s.Valid))
		if s.Observer {
			out += " observer"
		}
		return out + "\n"
	default:
		t.Fatalf("unknown command %q", cmd)
	}
	r.check(acts)
	var b strings.Builder
	for _, a := range acts {
		b.WriteString(r.format(a) + "\n")
	}
	if err != nil {
		fmt.Fprintf(&b, "error: %v\n", err)
	}
	return b.String()
}

// check asserts persist-before-broadcast and never signing two conflicting messages.
func (r *scriptRunner) check(acts []Action) {
	for _, a := range acts {
		switch a := a.(type) {
		case Persist:
			r.persisted = a.State
			for _, k := range r.ownKeys(a.State) {
				r.persistedMsgs[k] = true
			}
		case Broadcast:
			key, ident := "", ""
			switch {
			case a.Proposal != nil && a.Proposal.Proposer == r.cfg.Self:
				key, ident = fmt.Sprintf("proposal %d/%d", a.Proposal.Height, a.Proposal.Round), string(a.Proposal.Encode())
			case a.Vote != nil && a.Vote.Validator == r.cfg.Self:
				key, ident = fmt.Sprintf("%d %d/%d", a.Vote.Type, a.Vote.Height, a.Vote.Round), string(a.Vote.Encode())
			default:
				continue
			}
			if !r.persistedMsgs[ident] {
				r.t.Errorf("broadcast of own %s before any Persist holding it", key)
			}
			if prev, ok := r.signed[key]; ok && prev != ident {
				r.t.Errorf("signed two different messages for %s", key)
			}
			r.signed[key] = ident
		}
	}
}

func (r *scriptRunner) ownKeys(s *SignedState) []string {
	var ks []string
	if s.Proposal != nil {
		ks = append(ks, string(s.Proposal.Encode()))
	}
	for _, v := range []*Vote{s.Prevote, s.Precommit} {
		if v != nil {
			ks = append(ks, string(v.Encode()))
		}
	}
	return ks
}

func (r *scriptRunner) name(h chain.Hash) string {
	if h == (chain.Hash{}) {
		return "nil"
	}
	if n, ok := r.names[h]; ok {
		return n
	}
	return h.Hex()[:10]
}

func (r *scriptRunner) who(a chain.Address) string {
	for i := range testKeys {
		if testAddr(i) == a {
			return fmt.Sprintf("v%d", i)
		}
	}
	return a.Hex()
}

func (r *scriptRunner) ref(b BlockRef) string {
	if b.IsNone() {
		return "none"
	}
	return fmt.Sprintf("%s@%d", r.name(b.Hash), b.Round)
}

func (r *scriptRunner) vote(v *Vote) string {
	typ := map[chain.VoteType]string{chain.Prevote: "prevote", chain.Precommit: "precommit"}[v.Type]
	return fmt.Sprintf("%s %s %d/%d %s", typ, r.who(v.Validator), v.Height, v.Round, r.name(v.BlockHash))
}

func (r *scriptRunner) proposal(p *Proposal) string {
	return fmt.Sprintf("proposal %s %d/%d %s t=%d pol=%d", r.who(p.Proposer), p.Height, p.Round, r.name(p.BlockHash), p.BlockTime, p.POLRound)
}

func (r *scriptRunner) format(a Action) string {
	switch a := a.(type) {
	case Persist:
		s := a.State
		out := fmt.Sprintf("persist %d/%d locked=%s valid=%s", s.Height, s.Round, r.ref(s.Locked), r.ref(s.Valid))
		if len(s.ValidPOL) > 0 {
			out += fmt.Sprintf("(%d votes)", len(s.ValidPOL))
		}
		if s.Proposal != nil {
			out += fmt.Sprintf(" proposal=%s@%d", r.name(s.Proposal.BlockHash), s.Proposal.Round)
		}
		if s.Prevote != nil {
			out += fmt.Sprintf(" prevote=%s@%d", r.name(s.Prevote.BlockHash), s.Prevote.Round)
		}
		if s.Precommit != nil {
			out += fmt.Sprintf(" precommit=%s@%d", r.name(s.Precommit.BlockHash), s.Precommit.Round)
		}
		return out
	case Broadcast:
		if a.Proposal != nil {
			out := "broadcast " + r.proposal(a.Proposal)
			if len(a.POL) > 0 {
				var from []string
				for _, v := range a.POL {
					from = append(from, r.who(v.Validator))
				}
				out += " pol-votes=" + strings.Join(from, ",")
			}
			return out
		}
		return "broadcast " + r.vote(a.Vote)
	case ScheduleTimeout:
		return fmt.Sprintf("schedule %v %d/%d %v", a.Step, a.Height, a.Round, a.After)
	case BuildBlock:
		return fmt.Sprintf("build %d/%d parent=%s ptime=%d", a.Height, a.Round, r.name(a.ParentHash), a.ParentTime)
	case Commit:
		c := a.Certificate
		var sigs []string
		for _, s := range c.Sigs {
			sigs = append(sigs, r.who(s.Validator))
		}
		if err := chain.VerifyCommit(r.cfg.ChainID, r.chainValidators(a.Height), a.Height, a.BlockHash, c); err != nil {
			r.t.Errorf("commit certificate does not verify: %v", err)
		}
		return fmt.Sprintf("commit %d %s round=%d sigs=%s", a.Height, r.name(a.BlockHash), c.Round, strings.Join(sigs, ","))
	case Evidence:
		return "evidence " + r.vote(&a.A) + " / " + r.name(a.B.BlockHash)
	case ProposalEvidence:
		return "proposal-evidence " + r.proposal(&a.A) + " / " + r.proposal(&a.B)
	}
	r.t.Fatalf("unknown action %T", a)
	return ""
}

// chainValidators is the validator set of height, as the script's NewHeights named it.
func (r *scriptRunner) chainValidators(height uint64) []chain.Validator {
	set, ok := r.setAt[height]
	if !ok {
		r.t.Fatalf("no validator set known for height %d", height)
	}
	vs := make([]chain.Validator, len(set))
	for i, a := range set {
		vs[i] = chain.Validator{Address: a}
	}
	return vs
}

// addrs parses a list of test key indices ("0,1,5") into their addresses; "" is nil and
// "none" an empty, non-nil set.
func (r *scriptRunner) addrs(cmd, list string) []chain.Address {
	switch list {
	case "":
		return nil
	case "none":
		return []chain.Address{}
	}
	var out []chain.Address
	for _, f := range strings.Split(list, ",") {
		i, err := strconv.Atoi(f)
		if err != nil || i < 0 || i >= len(testKeys) {
			r.t.Fatalf("%s: bad validator %q", cmd, f)
		}
		out = append(out, testAddr(i))
	}
	return out
}

package consensus

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/loyal-ledger/loyal/chain"
	"pgregory.net/rapid"
)

// TestPropertyAnyInputs steps random, mostly adversarial events (every other validator may be
// byzantine: votes of any round, type and block, proposals from anyone, stale timeouts,
// restarts from the last Persist at any point) into an engine and its twin, and checks after
// every step that:
//   - every Broadcast of a message Self signed comes after a Persist that holds it (in that
//     list or an earlier one, or the restored state), and every Persist decodes to itself;
//   - Self never signs two different messages for one height, round and type, across
//     restarts;
//   - the engine commits at most once per height, with a certificate chain.VerifyCommit
//     accepts;
//   - the twin, given the same events, returns the same actions (determinism);
//   - the only errors are the rejections of invalid inputs.
func TestPropertyAnyInputs(t *testing.T) {
	sigs := map[string]Vote{}
	vote := func(i int, typ chain.VoteType, h uint64, r uint32, b chain.Hash) Vote {
		k := fmt.Sprint(i, typ, h, r, b)
		v, ok := sigs[k]
		if !ok {
			v = signedVote(t, i, typ, h, r, b)
			sigs[k] = v
		}
		return v
	}
	var persists, broadcasts, commits, restarts int
	defer func() {
		t.Logf("persists %d, own broadcasts %d, commits %d, restarts %d", persists, broadcasts, commits, restarts)
	}()
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.SampledFrom([]int{1, 4, 7}).Draw(rt, "n")
		self := rapid.IntRange(-1, n-1).Draw(rt, "self")
		cfg := testConfig(n, self)
		// Mostly A, so that quorums form.
		blocks := []chain.Hash{{}, blockHash("A"), blockHash("B"), blockHash("A"), blockHash("A"), blockHash("C")}
		var (
			engines   [2]*Engine
			persisted *SignedState
			history   = map[string]bool{} // own messages in some Persist
			signed    = map[string]string{}
			committed = map[uint64]chain.Hash{}
			height    = uint64(1)
			parent    = uint64(1000)
			clock     = int64(1001)
		)
		start := func() {
			for i := range engines {
				var err error
				if engines[i], err = New(cfg, persisted); err != nil {
					rt.Fatal(err)
				}
			}
		}
		check := func(ev Event) {
			a0, err0 := engines[0].Step(ev)
			a1, err1 := engines[1].Step(ev)
			if !reflect.DeepEqual(a0, a1) || fmt.Sprint(err0) != fmt.Sprint(err1) {
				rt.Fatalf("twin engines differ on %#v", ev)
			}
			if err0 != nil && !errors.Is(err0, ErrWrongProposer) && !errors.Is(err0, ErrNotValidator) {
				rt.Fatalf("unexpected error on %#v: %v", ev, err0)
			}
			for _, a := range a0 {
				switch a := a.(type) {
				case Persist:
					enc := a.State.Encode()
					if d, err := DecodeSignedState(enc); err != nil || !reflect.DeepEqual(d.Encode(), enc) {
						rt.Fatalf("persisted state does not round-trip: %v", err)
					}
					persisted = a.State
					persists++
					for _, m := range ownMessages(a.State) {
						history[m] = true
					}
				case Broadcast:
					key, enc := "", ""
					switch {
					case a.Proposal != nil && a.Proposal.Proposer == cfg.Self:
						key, enc = fmt.Sprint("proposal ", a.Proposal.Height, a.Proposal.Round), string(a.Proposal.Encode())
					case a.Vote != nil && a.Vote.Validator == cfg.Self:
						key, enc = fmt.Sprint(a.Vote.Type, a.Vote.Height, a.Vote.Round), string(a.Vote.Encode())
					default:
						rt.Fatalf("broadcast of a message Self did not sign")
					}
					if !history[enc] {
						rt.Fatalf("broadcast of %s before a Persist holding it", key)
					}
					if prev, ok := signed[key]; ok && prev != enc {
						rt.Fatalf("signed two different messages for %s", key)
					}
					signed[key] = enc
					broadcasts++
				case Commit:
					if prev, ok := committed[a.Height]; ok && prev != a.BlockHash {
						rt.Fatalf("two commits at height %d", a.Height)
					}
					committed[a.Height] = a.BlockHash
					commits++
					vals := make([]chain.Validator, n)
					for i := range vals {
						vals[i].Address = cfg.Validators[i]
					}
					if err := chain.VerifyCommit(cfg.ChainID, vals, a.Height, a.BlockHash, a.Certificate); err != nil {
						rt.Fatalf("certificate: %v", err)
					}
				}
			}
		}
		newHeight := func() {
			check(NewHeight{Now: time.Unix(clock, 0), Height: height, ParentHash: blockHash("G"), ParentTime: parent})
		}
		start()
		newHeight()
		for range rapid.IntRange(10, 200).Draw(rt, "steps") {
			st := engines[0].Status()
			round := uint32(rapid.IntRange(0, int(st.Round)+2).Draw(rt, "round"))
			if rapid.IntRange(0, 20).Draw(rt, "far") == 0 {
				round += uint32(rapid.IntRange(0, 40).Draw(rt, "farRound"))
			}
			h := height
			if rapid.IntRange(0, 10).Draw(rt, "nextHeight") == 0 {
				h++
			}
			b := rapid.SampledFrom(blocks).Draw(rt, "block")
			from := rapid.IntRange(0, n-1).Draw(rt, "from")
			switch rapid.IntRange(0, 9).Draw(rt, "event") {
			case 0, 1, 2: // prevote
				check(VoteReceived{Now: time.Unix(clock, 0), Vote: vote(from, chain.Prevote, h, round, b)})
			case 3, 4, 5: // precommit
				check(VoteReceived{Now: time.Unix(clock, 0), Vote: vote(from, chain.Precommit, h, round, b)})
			case 6: // a proposal, usually from the right proposer, maybe a re-proposal with its POL
				if b == (chain.Hash{}) {
					b = blocks[1]
				}
				proposer := cfg.index(cfg.Proposer(h, round))
				if rapid.IntRange(0, 5).Draw(rt, "wrongProposer") == 0 {
					proposer = from
				}
				pol := int32(-1)
				var votes []Vote
				if round > 0 && rapid.Bool().Draw(rt, "reproposal") {
					pol = int32(rapid.IntRange(0, int(round)-1).Draw(rt, "pol"))
					for i := range rapid.IntRange(0, n).Draw(rt, "polVotes") {
						votes = append(votes, vote(i, chain.Prevote, h, uint32(pol), b))
					}
				}
				bt := uint64(clock + int64(rapid.IntRange(-15, 15).Draw(rt, "timeOffset")))
				check(ProposalReceived{Now: time.Unix(clock, 0), Proposal: signedProposal(t, proposer, h, round, pol, b, bt), POL: votes,
					BlockValid: rapid.IntRange(0, 5).Draw(rt, "invalid") > 0})
			case 7: // a timeout, often stale
				check(TimeoutFired{Now: time.Unix(clock, 0), Height: h, Round: round, Step: Step(rapid.IntRange(1, 3).Draw(rt, "step"))})
			case 8: // the node answers a BuildBlock (or a stale one)
				if b == (chain.Hash{}) {
					b = blocks[2]
				}
				check(BlockBuilt{Now: time.Unix(clock, 0), Height: h, Round: round, BlockHash: b, BlockTime: uint64(clock)})
			case 9:
				if rapid.Bool().Draw(rt, "restart") {
					start()
					newHeight()
					restarts++
				} else {
					clock += int64(rapid.IntRange(0, 5).Draw(rt, "tick"))
				}
			}
			for engines[0].Status().Step == StepCommit { // the node applies the block, then moves on
				height++
				parent = uint64(clock)
				newHeight()
			}
		}
	})
}

func ownMessages(s *SignedState) []string {
	var out []string
	if s.Proposal != nil {
		out = append(out, string(s.Proposal.Encode()))
	}
	for _, v := range []*Vote{s.Prevote, s.Precommit} {
		if v != nil {
			out = append(out, string(v.Encode()))
		}
	}
	return out
}

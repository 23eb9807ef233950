// Package consensus is Loyal's BFT consensus engine: Tendermint-style rounds (propose,
// prevote, precommit) with locking, a round-robin proposer and timeouts that grow per round
// up to a cap. It tolerates f = ⌊(n−1)/3⌋ byzantine validators out of n, and its safety never
// depends on timing.
//
// Like etcd-io/raft, the engine is a pure state machine: the node steps events in (NewHeight,
// ProposalReceived, VoteReceived, TimeoutFired, BlockBuilt) and handles the actions that come
// out (Persist, Broadcast, ScheduleTimeout, BuildBlock, Commit, Evidence, ProposalEvidence),
// in order. The engine has no goroutines, clock, network, disk or randomness, and it knows a
// block only by its hash and header time: the node owns the blocks, the timers, the ledger and
// all I/O. The same events always give the same actions, which is what lets the whole
// protocol be tested by deterministic simulation (sim_test.go).
//
// # Driving it
//
// One goroutine owns the engine and runs this loop:
//
//	persisted, err := consensus.DecodeSignedState(disk.Read("signed_state")) // nil if none
//	if persisted != nil && persisted.Height <= ledger.Height() {
//		persisted = nil // of a committed height: nothing to resume
//	}
//	cfg.Validators = ledger.RulesAt(ledger.Height() + 1).ValidatorAddresses()
//	eng, err := consensus.New(cfg, persisted)
//	newHeight := func() consensus.NewHeight { // the height after the ledger's head
//		h := ledger.Height() + 1
//		return consensus.NewHeight{Now: time.Now(), Height: h,
//			ParentHash: ledger.Head().Hash(), ParentTime: ledger.Head().Time,
//			Validators:     ledger.RulesAt(h).ValidatorAddresses(),     // certifies h
//			NextValidators: ledger.RulesAt(h + 1).ValidatorAddresses()} // certifies h+1
//	}
//	ev := consensus.Event(newHeight())
//	for {
//		acts, err := eng.Step(ev) // err: log it (and score the peer); acts are still handled
//		for _, a := range acts {  // in order, each one's durable part before the next
//			switch a := a.(type) {
//			case consensus.Persist:
//				disk.WriteSync("signed_state", a.State.Encode()) // before any later Broadcast
//			case consensus.Broadcast:
//				p2p.Send(a) // a.Vote, or a.Proposal with a.POL and the block body
//			case consensus.ScheduleTimeout:
//				timers.Add(a) // → consensus.TimeoutFired{Height, Round, Step}
//			case consensus.BuildBlock:
//				builder.Build(a) // → consensus.BlockBuilt{Height, Round, BlockHash, BlockTime}
//			case consensus.Commit:
//				ledger.Apply(block(a.BlockHash), a.Certificate) // durably; fetch the block if missing
//				pending = append(pending, newHeight()) // a.Height + 1, once applied
//			case consensus.Evidence, consensus.ProposalEvidence:
//				evidence.Keep(a)
//			}
//		}
//		ev = next(pending, timers, p2p, builder) // with Now: time.Now()
//	}
//
// # What the node does for it
//
//   - It verifies every message before stepping it: Proposal.Verify and Vote.Verify check the
//     signature against the claimed signer (and each POL vote that comes with a proposal).
//     The engine trusts signatures and checks the rest: that a voter is a validator, that a
//     proposer is the round's, the height and round windows, duplicates.
//   - It sets ProposalReceived.BlockValid: it holds the block, its hash and header time are
//     the proposal's, and its content is valid on the parent. The engine judges the block
//     time against the clock itself (MaxDrift). Proposals of a later height cannot be
//     validated yet: the node keeps a few and steps them after NewHeight. Votes of the next
//     height the engine buffers itself (one prevote and one precommit per validator).
//   - It persists each SignedState before handling the next action and passes the last one to
//     New after a restart: the engine resumes in that round, sends again what it had signed
//     instead of signing anything different, and keeps its lock. It also keeps the bodies of
//     the locked and valid blocks (SignedState.Locked, .Valid), which the engine may
//     re-propose by hash after a restart. A state of a later height than the ledger makes the
//     first NewHeight fail with ErrStateAhead rather than risk signing twice; a state of a
//     height the ledger already committed is of no use, and the node passes nil instead (New
//     checks a state against Config.Validators, the set after the ledger's head, which a
//     stale state's POL or signer may no longer be in).
//   - It tells the engine the validator sets (see below) and judges messages of later heights
//     under their own height's set: it steps votes and proposals of the current and next
//     heights only from that height's validators and proposers.
//   - It catches up by block sync: the engine re-sends nothing but a re-proposal's POL, so a
//     node that missed the precommits of a height that the others committed gets the block
//     and its certificate from a peer (peers exchange their heights), checks the certificate
//     with chain.VerifyCommit against the validator set of that height (RulesAt(height)),
//     applies the block and steps NewHeight. The simulation's nodes do exactly this.
//
// # Validator-set changes
//
// The set is per height. A change decided in block H takes effect at H+2, so when the node
// starts height h it knows the sets at h and h+1 and passes both in NewHeight (Validators,
// NextValidators). At each NewHeight the engine rebinds to the set at h: the proposer of
// (h, round) is set[(h+round) % n], the quorum is more than two thirds of it, certificates
// list signatures in its order, and Self signs at h only if it is in it (else the engine
// is an observer for h and Status().Observer says so). Votes of h+1 that arrive early are
// accepted from the members of the set at h+1 and buffered by validator; the NewHeight of
// h+1 replays those of its set's members. A node that is a validator of a later set only
// runs as an observer until then, with its Signer configured, so that it votes from the
// first height whose set holds it. Nil sets keep the set the engine has (see NewHeight): a
// node that never names one runs with Config.Validators throughout, as before sets could
// change.
//
// # Wire
//
// Proposals ('p'), votes ('v') and a re-proposal's POL votes ('l') have binary encodings with
// strict decoders (DecodeProposal, DecodeVote, DecodePOL). A proposer signs ProposalDigest, a
// validator signs chain.VoteDigest, so a precommit signature is directly a certificate
// signature.
package consensus

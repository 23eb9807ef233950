// Package chain is the Loyal ledger itself, pure: transaction and block types, their
// canonical encodings, EIP-712 signing, the state transition, commit certificates and
// genesis. It has no network, no goroutines and no wall clock: every result depends only on
// the committed state and the block (its time and transactions), so every partner node and
// every auditor computes the same state root.
//
// # Use
//
//	g, _ := chain.LoadGenesis("genesis.json")
//	rules := chain.NewSchedule(g)            // which rules are in force at each height
//	signer := chain.NewSigner(g.ChainID, g.Hash())
//	tx := chain.NewTx(g.ChainID, nonce, 0, &chain.Transfer{Program: "ACME", To: to, Amount: 50})
//	_ = signer.Sign(tx, key)                 // EIP-712, secp256k1, low-S
//	sender, err := signer.Sender(tx)         // recovered from the signature
//
//	st := chain.NewState(committed, rules.At(height), height, blockTime) // committed: a StateReader
//	_ = st.BeginBlock()                      // counts points expiring today, per program
//	entries, err := st.ApplyTx(tx, sender)   // all or nothing; err wraps a sentinel with a Code
//	changes := st.Changes()                  // sorted writes for the store and the state root
//
// example_test.go runs this end to end. The package imports no storage engine: it reads
// committed state through the one-method StateReader. Package chain/ledger persists blocks
// and state atomically through chain/store and keeps the state root; chain/smt is the
// authenticated map; chain/merkle the tx root.
//
// # Rules over time
//
// The rules a block is executed and certified by (protocol Version, limits, validator set)
// are those in force at its height: Schedule.At answers, genesis starts it, and a change
// takes effect only at an activation height the chain records (docs/adr/0005). Each
// transaction kind lives in one place (docs/adr/0004).
//
// # Partner governance
//
// From protocol Version2 (a genesis with "protocol_version": 2 and a governance section),
// partners admit and remove partners and rotate a partner's key by proposal (Propose) and
// approval (Approve). A proposal executes in the transaction whose approval makes the
// approvers more than two thirds of the partners of that moment, before its deadline, once;
// a removed partner's programs retire and a rotated key is refused from then on
// (governance.go, docs/adr/0009).
//
// # Validator governance
//
// From protocol Version3, partners also add, remove and re-key validators (ProposeValidator,
// approved like any proposal; the new key proves possession by signing its entry,
// possession.go). A change executed in block H is in force from H+ActivationDelay (2); the
// state keeps every epoch of the set (validator_set.go), Schedule.Follow brings a schedule
// up to them, every header commits to the next height's set (Header.NextValidators,
// CheckNext), and FollowSetChanges checks a list of certified changes from genesis's set, as
// proof bundles and checkpoints carry them (set_change.go, docs/adr/0003).
//
// # Loyalty semantics
//
// Points are uint64 and held per account and program as lots (amount, expiry day,
// availability day). Earned points are pending for the program's return window: points
// earned on UTC day d under pending_days p > 0 become spendable at the start of day d+p+1,
// so the window is never shorter than p full days whatever the hour of the order; with p = 0
// they are spendable at once. Expiry (expiry_days e > 0) is counted from availability:
// the points expire at the start of day available+e, in the first block whose time is at or
// past it. Spending takes the oldest expiry first; points keep their expiry when transferred
// or exchanged (an exchange mints at the earlier of the earliest burnt lot's expiry and the
// target program's own), so nothing can refresh an expiry. Lots with equal days merge. The
// genesis max_lots bounds an account's available lots: past it, the two earliest-expiring
// available lots merge into one with the earlier expiry — never in the holder's favour, so
// nobody can bloat another's account by sending dust. Pending lots are not bounded by it and
// never merge across days: they come only from the program's own earns (one lot per earn day
// and policy), and keeping them apart lets a reversal find exactly the order's pending points.
//
// Expiry costs no scan of accounts: each program keeps a per-day schedule of the points that
// expire that day. BeginBlock moves the days up to the block's day into the program's
// expired total; an account's expired lots are dropped when the account is next touched, and
// readers compute balances as of the block time (Balance.Available), so both agree. A caller
// that committed a block of the same day already (the ledger) calls BeginBlockAfter instead,
// which reads no program for a day already processed, and changes the same.
//
// Reversals take first from the order's own still-pending points, then from available
// points oldest first; what was already spent is recorded as unrecovered. The order's
// earned amount, minus what was reversed, bounds every reversal, and the customer's lifetime
// and windowed earned totals (and so the tier) drop by the whole reversed amount.
//
// For every program, at every height:
//
//	earned − reversed − redeemed − expired − exchanged_out + exchanged_in = Σ balances
//
// (pending included), where reversed counts only what was clawed back.
//
// # Encodings
//
// Binary encodings start with a tag byte naming the type ('T' transaction, 'H' header,
// 'B' block, 'C' commit certificate, 'V' vote) and a version byte; integers are fixed-width
// big-endian; strings and lists carry their lengths; decoding is strict (no trailing bytes,
// bounded lengths, booleans 0 or 1, valid UTF-8), so each value has exactly one encoding and
// a transaction id (keccak256 of the encoding) cannot be malleated. Never bare
// concatenation (Fabric CVE-2023-46132).
//
// # State root
//
// The state root is a binary sparse Merkle tree over SHA-256(state key), with single-leaf
// subtrees compressed (chain/smt). There is one record per account (its nonce and its
// balance in every program), one per program, order, route, settlement position and expiry
// day. It was chosen by benchmark over go-ethereum's Merkle Patricia trie (BENCHMARKS.md,
// docs/adr/0001-state-root.md): the tree's inner hashes stay in memory, a block's dirty nodes
// are rehashed once per block rather than once per transaction, SHA-256 runs on the CPU's SHA
// extensions, and proofs are log2(n) sibling hashes with exclusion proofs for free. The price
// is memory proportional to the number of records and a rebuild of the tree on open.
package chain

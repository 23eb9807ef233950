package chain_test

import (
	"crypto/ecdsa"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/loyal-ledger/loyal/chain"
)

// Validator governance (Version3, ADR 0003) on the state in a map: proposals with proofs of
// possession, the one-change-per-activation rule, the refusals, and the schedule that the
// state's epochs rebuild.

// valKey is a deterministic validator key.
func valKey(tb testing.TB, name string) *ecdsa.PrivateKey {
	tb.Helper()
	k, err := crypto.ToECDSA(crypto.Keccak256([]byte("validator key " + name)))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func valEntry(k *ecdsa.PrivateKey, name string, partner chain.Address) chain.Validator {
	return chain.Validator{Name: name, Partner: partner, PubKey: crypto.CompressPubkey(&k.PublicKey), Address: crypto.PubkeyToAddress(k.PublicKey),
		Addrs: []string{"/ip4/127.0.0.1/tcp/" + fmt.Sprint(9000+len(name))}}
}

// valFixture is a Version3 coalition of four partners each running one validator (v0..v3),
// with the chain's schedule following its state.
type valFixture struct {
	*stateFixture
	keys     map[string]*ecdsa.PrivateKey
	schedule *chain.Schedule
}

func newValGov(t *testing.T, params chain.Params) *valFixture {
	keys := map[string]*ecdsa.PrivateKey{}
	partners := []chain.Address{who.acme, who.bolt, who.cafe, dora}
	f := newStateFixture(t, params, partners, func(g *chain.Genesis) {
		g.ProtocolVersion, g.Governance = chain.Version3, &chain.GovernanceParams{ProposalSeconds: 86_400}
		g.Validators = nil
		for i, p := range partners {
			name := fmt.Sprintf("v%d", i)
			keys[name] = valKey(t, name)
			g.Validators = append(g.Validators, valEntry(keys[name], name, p))
		}
	})
	return &valFixture{stateFixture: f, keys: keys, schedule: chain.NewSchedule(f.genesis)}
}

func (f *valFixture) domain() chain.Domain {
	return chain.Domain{ChainID: f.genesis.ChainID, Salt: f.genesis.Hash()}
}

// key returns (making it once) the key named name.
func (f *valFixture) key(t *testing.T, name string) *ecdsa.PrivateKey {
	if f.keys[name] == nil {
		f.keys[name] = valKey(t, name)
	}
	return f.keys[name]
}

func (f *valFixture) addr(t *testing.T, name string) chain.Address {
	return crypto.PubkeyToAddress(f.key(t, name).PublicKey)
}

// entry is the ValidatorKey of key name run by partner, with its proof under the chain's domain.
func (f *valFixture) entry(t *testing.T, name string, partner chain.Address) (*chain.ValidatorKey, []byte) {
	t.Helper()
	k := f.key(t, name)
	e := &chain.ValidatorKey{Name: name, Partner: partner, PubKey: crypto.CompressPubkey(&k.PublicKey), Multiaddrs: []string{"/ip4/127.0.0.1/tcp/9100"}}
	proof, err := chain.SignPossession(f.domain(), e, k)
	if err != nil {
		t.Fatal(err)
	}
	return e, proof[:]
}

func (f *valFixture) addValidator(t *testing.T, name string, partner chain.Address) *chain.ProposeValidator {
	e, proof := f.entry(t, name, partner)
	return &chain.ProposeValidator{Action: chain.ActionAddValidator, Entry: e, Proof: proof}
}

func (f *valFixture) rotateValidator(t *testing.T, old, name string, partner chain.Address) *chain.ProposeValidator {
	e, proof := f.entry(t, name, partner)
	return &chain.ProposeValidator{Action: chain.ActionRotateValidatorKey, Validator: f.addr(t, old), Entry: e, Proof: proof}
}

func (f *valFixture) removeValidator(t *testing.T, name string) *chain.ProposeValidator {
	return &chain.ProposeValidator{Action: chain.ActionRemoveValidator, Validator: f.addr(t, name)}
}

// follow brings the schedule up to the committed state, as the ledger does after a block.
func (f *valFixture) follow(t *testing.T) {
	t.Helper()
	if err := f.schedule.Follow(f.base); err != nil {
		t.Fatal(err)
	}
}

// names lists the validator names of the set at height h.
func (f *valFixture) names(h uint64) []string {
	var out []string
	for _, v := range f.schedule.At(h).Validators {
		out = append(out, v.Name)
	}
	return out
}

// pass has bolt and cafe approve proposal id, the third of four partners executing it; the
// schedule follows.
func (f *valFixture) pass(t *testing.T, id uint64) []chain.Entry {
	t.Helper()
	f.ok(who.bolt, approve(id))
	es := f.ok(who.cafe, approve(id))
	f.follow(t)
	return es
}

func TestValidatorGovernance(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, f *valFixture)
	}{
		{"add: decided at H, in force from H+2, after the others", func(t *testing.T, f *valFixture) {
			es := f.ok(who.acme, f.addValidator(t, "v4", dora))
			eq(t, "proposal entry", es, []chain.Entry{{Account: who.acme, Cause: chain.CauseProposal, Ref: "1:add_validator", Counterparty: chain.Address{}}})
			es = f.pass(t, 1)
			h := f.height
			eq(t, "outcome", es, []chain.Entry{
				{Account: who.cafe, Cause: chain.CauseApproval, Ref: "1:add_validator", Counterparty: dora},
				{Account: dora, Cause: chain.CauseValidatorAdded, Ref: "1:add_validator", Counterparty: f.addr(t, "v4")},
			})
			eq(t, "set at H", f.names(h), []string{"v0", "v1", "v2", "v3"})
			eq(t, "set at H+1", f.names(h+1), []string{"v0", "v1", "v2", "v3"})
			eq(t, "set at H+2", f.names(h+2), []string{"v0", "v1", "v2", "v3", "v4"})
			eq(t, "set far on", f.names(h+1000), []string{"v0", "v1", "v2", "v3", "v4"})
			p := f.proposal(1)
			eq(t, "status", p.StatusAt(f.time), "executed")
			eq(t, "activation", p.Activation, h+2)
			eq(t, "partner", p.Partner, dora)
			eq(t, "entry name", p.Entry.Name, "v4")
			added := f.schedule.At(h + 2).Validators[4]
			eq(t, "address derived from the key", added.Address, f.addr(t, "v4"))
			eq(t, "multiaddrs", added.Addrs, []string{"/ip4/127.0.0.1/tcp/9100"})
			// Another schedule rebuilt from the state alone agrees, as the ledger's on opening.
			again := chain.NewSchedule(f.genesis)
			if err := again.Follow(f.base); err != nil {
				t.Fatal(err)
			}
			eq(t, "activations", len(again.Activations()), 1)
			eq(t, "rebuilt", again.At(h+2).Validators, f.schedule.At(h+2).Validators)
			eq(t, "following twice changes nothing", len(f.schedule.Activations()), 1)
			f.follow(t)
			eq(t, "following again changes nothing", len(f.schedule.Activations()), 1)
		}},
		{"remove keeps the others in order", func(t *testing.T, f *valFixture) {
			f.ok(who.acme, f.removeValidator(t, "v1"))
			es := f.pass(t, 1)
			eq(t, "outcome", es[1], chain.Entry{Account: who.bolt, Cause: chain.CauseValidatorRemoved, Ref: "1:remove_validator", Counterparty: f.addr(t, "v1")})
			eq(t, "set", f.names(f.height+2), []string{"v0", "v2", "v3"})
			// The removed key may come back (its partner's node returns): only rotated keys may not.
			f.ok(who.bolt, f.addValidator(t, "v1", who.bolt))
		}},
		{"rotate keeps the place and retires the old key", func(t *testing.T, f *valFixture) {
			f.ok(who.acme, f.rotateValidator(t, "v2", "v2b", who.cafe))
			es := f.pass(t, 1)
			eq(t, "outcome", es[1], chain.Entry{Account: who.cafe, Cause: chain.CauseValidatorKeyRotated, Ref: "1:rotate_validator_key", Counterparty: f.addr(t, "v2")})
			eq(t, "set", f.names(f.height+2), []string{"v0", "v1", "v2b", "v3"})
			f.reject(who.cafe, f.addValidator(t, "v2", who.cafe), chain.ErrRetiredKey)
			f.reject(who.cafe, f.rotateValidator(t, "v2b", "v2", who.cafe), chain.ErrRetiredKey)
			f.reject(who.cafe, f.rotateValidator(t, "v2b", "v3", who.cafe), chain.ErrAlreadyValidator)
		}},
		{"one change per activation height; the next block takes the next", func(t *testing.T, f *valFixture) {
			f.ok(who.acme, f.addValidator(t, "v4", dora))
			f.ok(who.acme, f.removeValidator(t, "v0"))
			f.ok(who.bolt, approve(1))
			f.ok(who.bolt, approve(2))
			f.next(func(b *blk) {
				b.ok(who.cafe, approve(1))
				b.reject(who.cafe, approve(2), chain.ErrValidatorChangePending)
			})
			h := f.height
			eq(t, "proposal 2 still open", f.proposal(2).StatusAt(f.time), "open")
			f.ok(who.cafe, approve(2))
			f.follow(t)
			eq(t, "at H+2", f.names(h+2), []string{"v0", "v1", "v2", "v3", "v4"})
			eq(t, "at H+3", f.names(h+3), []string{"v1", "v2", "v3", "v4"})
			eq(t, "activations", len(f.schedule.Activations()), 2)
		}},
		{"a change is judged against the last set decided, not yet in force", func(t *testing.T, f *valFixture) {
			f.ok(who.acme, f.addValidator(t, "v4", dora))
			f.pass(t, 1)
			f.reject(who.acme, f.addValidator(t, "v4", dora), chain.ErrAlreadyValidator)
			f.ok(who.acme, f.removeValidator(t, "v4"))
		}},
		{"a precondition lost before execution fails the proposal", func(t *testing.T, f *valFixture) {
			f.ok(who.acme, f.removeValidator(t, "v3"))
			f.ok(who.bolt, f.removeValidator(t, "v3"))
			f.pass(t, 1)
			f.ok(who.acme, approve(2))
			es := f.ok(who.cafe, approve(2))
			eq(t, "failed", es[1], chain.Entry{Account: who.bolt, Cause: chain.CauseProposalFailed, Ref: "2:remove_validator:not_validator", Counterparty: dora})
			eq(t, "status", f.proposal(2).StatusAt(f.time), "failed")
		}},
		{"the proof must be the key's, of this entry, on this chain", func(t *testing.T, f *valFixture) {
			p := f.addValidator(t, "v4", dora)
			p.Entry.Name = "v4-renamed"
			f.reject(who.acme, p, chain.ErrBadPossession)
			p = f.addValidator(t, "v4", dora)
			other, _ := chain.SignPossession(chain.Domain{ChainID: f.genesis.ChainID, Salt: chain.Hash{1}}, p.Entry, f.key(t, "v4"))
			p.Proof = other[:]
			f.reject(who.acme, p, chain.ErrBadPossession)
			p = f.addValidator(t, "v4", dora)
			byOther, _ := chain.SignDigest(chain.PossessionDigest(f.domain(), p.Entry), f.key(t, "v0"))
			p.Proof = byOther[:]
			f.reject(who.acme, p, chain.ErrBadPossession)
		}},
		{"refusals", func(t *testing.T, f *valFixture) {
			f.reject(who.acme, f.addValidator(t, "v4", who.mallory), chain.ErrNotPartner)
			f.reject(who.mallory, f.addValidator(t, "v4", dora), chain.ErrNotPartner)
			f.reject(who.acme, f.addValidator(t, "v0", dora), chain.ErrAlreadyValidator)
			f.reject(who.acme, f.removeValidator(t, "nobody"), chain.ErrNotValidator)
			f.reject(who.acme, f.rotateValidator(t, "nobody", "v5", dora), chain.ErrNotValidator)
			f.reject(who.acme, &chain.Propose{Action: chain.ActionRemoveValidator, Partner: dora}, chain.ErrMalformed)
			f.reject(who.acme, &chain.ProposeValidator{Action: chain.ActionRemovePartner, Validator: f.addr(t, "v0")}, chain.ErrMalformed)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, newValGov(t, chain.DefaultParams())) })
	}
}

func TestValidatorGovernanceLimits(t *testing.T) {
	t.Run("the last validator stays", func(t *testing.T) {
		f := newValGov(t, chain.DefaultParams())
		for i, name := range []string{"v0", "v1", "v2"} {
			f.ok(who.acme, f.removeValidator(t, name))
			f.pass(t, uint64(i+1))
		}
		eq(t, "one left", f.names(f.height+2), []string{"v3"})
		f.reject(who.acme, f.removeValidator(t, "v3"), chain.ErrLastValidator)
	})
	t.Run("a block must still hold a max transaction and the certificate", func(t *testing.T) {
		p := chain.DefaultParams()
		p.MaxBlockBytes = chain.BlockRoomNeeded(chain.Version3, p.MaxTxBytes, 4)
		f := newValGov(t, p)
		f.reject(who.acme, f.addValidator(t, "v4", dora), chain.ErrValidatorSetTooLarge)
		f.ok(who.acme, f.removeValidator(t, "v3"))
	})
	t.Run("before version 3 the kind is unknown", func(t *testing.T) {
		f := newGov(t)
		vf := &valFixture{stateFixture: f, keys: map[string]*ecdsa.PrivateKey{}}
		f.reject(who.acme, vf.addValidator(t, "v4", dora), chain.ErrUnknownKind)
	})
}

func TestProposeValidatorStatelessChecks(t *testing.T) {
	k := valKey(t, "x")
	d := chain.Domain{ChainID: 7, Salt: chain.Hash{7}}
	entry := func() *chain.ValidatorKey {
		return &chain.ValidatorKey{Name: "x", Partner: who.acme, PubKey: crypto.CompressPubkey(&k.PublicKey), Multiaddrs: []string{"/ip4/1.2.3.4/tcp/1"}}
	}
	proof := func(e *chain.ValidatorKey) []byte {
		s, err := chain.SignPossession(d, e, k)
		if err != nil {
			t.Fatal(err)
		}
		return s[:]
	}
	good := entry()
	cases := []struct {
		name string
		p    *chain.ProposeValidator
		want *chain.Error
	}{
		{"add with validator", &chain.ProposeValidator{Action: chain.ActionAddValidator, Validator: who.bolt, Entry: good, Proof: proof(good)}, chain.ErrMalformed},
		{"add without entry", &chain.ProposeValidator{Action: chain.ActionAddValidator}, chain.ErrMalformed},
		{"add without proof", &chain.ProposeValidator{Action: chain.ActionAddValidator, Entry: good}, chain.ErrBadPossession},
		{"remove with entry", &chain.ProposeValidator{Action: chain.ActionRemoveValidator, Validator: who.bolt, Entry: good}, chain.ErrMalformed},
		{"remove with proof", &chain.ProposeValidator{Action: chain.ActionRemoveValidator, Validator: who.bolt, Proof: proof(good)}, chain.ErrMalformed},
		{"remove of nobody", &chain.ProposeValidator{Action: chain.ActionRemoveValidator}, chain.ErrZeroAddress},
		{"rotate to itself", &chain.ProposeValidator{Action: chain.ActionRotateValidatorKey, Validator: crypto.PubkeyToAddress(k.PublicKey), Entry: good, Proof: proof(good)}, chain.ErrMalformed},
		{"uncompressed key", func() *chain.ProposeValidator {
			e := entry()
			e.PubKey = crypto.FromECDSAPub(&k.PublicKey)
			return &chain.ProposeValidator{Action: chain.ActionAddValidator, Entry: e, Proof: proof(good)}
		}(), chain.ErrMalformed},
		{"control character in a name", func() *chain.ProposeValidator {
			e := entry()
			e.Name = "x\x1b[2J"
			return &chain.ProposeValidator{Action: chain.ActionAddValidator, Entry: e, Proof: proof(good)}
		}(), chain.ErrMalformed},
		{"no name", func() *chain.ProposeValidator {
			e := entry()
			e.Name = ""
			return &chain.ProposeValidator{Action: chain.ActionAddValidator, Entry: e, Proof: proof(good)}
		}(), chain.ErrMalformed},
		{"a partner action", &chain.ProposeValidator{Action: chain.ActionAdmitPartner, Validator: who.bolt}, chain.ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tx := chain.NewTx(7, 0, 0, c.p)
			tx.Sig[64] = 27
			tx.Sig[0], tx.Sig[32] = 1, 1
			err := tx.Check()
			var ce *chain.Error
			if !errors.As(err, &ce) || ce.Code != c.want.Code {
				t.Fatalf("Check = %v, want %s", err, c.want.Code)
			}
		})
	}
	// What passes round-trips through both encodings.
	p := &chain.ProposeValidator{Action: chain.ActionAddValidator, Entry: good, Proof: proof(good)}
	tx := chain.NewTx(7, 3, 0, p)
	if err := chain.NewSigner(d.ChainID, d.Salt).Sign(tx, k); err != nil {
		t.Fatal(err)
	}
	dec, err := chain.DecodeTx(tx.Encode())
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "binary round trip", dec.Hash(), tx.Hash())
	js, err := tx.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var back chain.Tx
	if err := back.UnmarshalJSON(js); err != nil {
		t.Fatalf("%v\n%s", err, js)
	}
	eq(t, "JSON round trip", back.Hash(), tx.Hash())
	if err := chain.VerifyPossession(d, good, p.Proof); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dec.Payload.(*chain.ProposeValidator).Entry.Multiaddrs, good.Multiaddrs) {
		t.Fatal("multiaddrs lost")
	}
}

// A Version3 header commits to the next set in a second encoding version; a header without
// the commitment keeps version 1's encoding and hash, and a version 2 encoding of a zero
// commitment (a second encoding of a version 1 header) is refused.
func TestHeaderNextValidators(t *testing.T) {
	h := chain.Header{ChainID: 7, Height: 9, Time: 100, Proposer: who.acme}
	v1 := h.Encode()
	eq(t, "version 1", v1[1], byte(1))
	h.NextValidators = chain.Hash{1, 2, 3}
	v2 := h.Encode()
	eq(t, "version 2", v2[1], byte(2))
	eq(t, "32 bytes longer", len(v2), len(v1)+32)
	if h.Hash() == (&chain.Header{ChainID: 7, Height: 9, Time: 100, Proposer: who.acme}).Hash() {
		t.Fatal("the commitment does not change the hash")
	}
	back, err := chain.DecodeHeader(v2)
	if err != nil || *back != h {
		t.Fatalf("round trip: %+v, %v", back, err)
	}
	forged := append(slices.Clone(v1), make([]byte, 32)...)
	forged[1] = 2
	if _, err := chain.DecodeHeader(forged); !errors.Is(err, chain.ErrMalformed) {
		t.Fatalf("version 2 with a zero commitment: %v", err)
	}
	blk := &chain.Block{Header: h}
	if got := len(blk.Encode()); got != blk.Size() {
		t.Fatalf("Size %d, encoding %d", blk.Size(), got)
	}
}

// An entry's multiaddrs are read by the chain itself, deterministically, as a subset of what
// libp2p dials: p2p's allow-list then never refuses a set the chain decided.
func TestProposeValidatorMultiaddrs(t *testing.T) {
	k := valKey(t, "m")
	for _, c := range []struct {
		addr string
		ok   bool
	}{
		{"/ip4/203.0.113.7/tcp/8646", true},
		{"/ip6/2001:db8::7/tcp/8646", true},
		{"/dns/node.acme.example/tcp/8646", true},
		{"/dns4/a-b.example/tcp/1", true},
		{"/dns6/x/tcp/65535", true},
		{"/ip4/203.0.113.7/tcp/8646/p2p/16Uiu2HAm6Jtd58c6jP987wDYywDBpMKD18odqgLMpj2Xc5Smaanf", false},
		{"/ip4/0.0.0.0/tcp/8646", false},
		{"/ip6/::/tcp/8646", false},
		{"/ip4/203.0.113.7/tcp/0", false},
		{"/ip4/203.0.113.7/tcp/08646", false},
		{"/ip4/203.0.113.7/tcp/65536", false},
		{"/ip4/203.0.113.7/udp/8646", false},
		{"/ip4/2001:db8::7/tcp/8646", false},
		{"/ip6/203.0.113.7/tcp/8646", false},
		{"/ip4/203.0.113.07/tcp/8646", false},
		{"/ip6/fe80::1%eth0/tcp/8646", false},
		{"/ip6/2001:DB8::7/tcp/8646", false},
		{"/dns/-bad.example/tcp/1", false},
		{"/dns/bad_name/tcp/1", false},
		{"/dns//tcp/1", false},
		{"203.0.113.7:8646", false},
		{"/ip4/203.0.113.7/tcp/8646/", false},
		{"not a multiaddr", false},
	} {
		e := &chain.ValidatorKey{Name: "m", Partner: who.acme, PubKey: crypto.CompressPubkey(&k.PublicKey), Multiaddrs: []string{c.addr}}
		proof, err := chain.SignPossession(chain.Domain{ChainID: 7}, e, k)
		if err != nil {
			t.Fatal(err)
		}
		tx := chain.NewTx(7, 0, 0, &chain.ProposeValidator{Action: chain.ActionAddValidator, Entry: e, Proof: proof[:]})
		err = chain.NewSigner(7, chain.Hash{}).Sign(tx, k)
		if err == nil {
			err = tx.Check()
		}
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, chain.ErrMalformed)) {
			t.Errorf("%q: %v, want accepted %t", c.addr, err, c.ok)
		}
	}
}

package chain

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"runtime/debug"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/signer/core/apitypes"
	"pgregory.net/rapid"
)

// sigAddr is a deterministic test address derived from a label.
func sigAddr(label string) Address {
	return common.BytesToAddress(crypto.Keccak256([]byte(label)))
}

// sigTestDomain is a fixed domain for the tests that do not care which one.
var sigTestDomain = Domain{ChainID: 7331, Salt: crypto.Keccak256Hash([]byte("loyal golden genesis"))}

// sigSample builds a fresh transaction each call, so tests may mutate what they get.
type sigSample struct {
	name  string
	valid bool // passes Tx.Check once signed (the signer tests sign only those)
	build func() *Tx
}

// sigSamples covers every kind with non-trivial values: several credits, tiers and
// operators, unicode, JSON-special characters, max uint64 values, and empty arrays.
func sigSamples() []sigSample {
	const max = math.MaxUint64
	policy := func() Policy {
		return Policy{PendingDays: 14, ExpiryDays: 365, TierWindowDays: 365, Tiers: []Tier{
			{"Silver", 1000}, {"Gold", 5000}, {"Platine ✦", max},
		}}
	}
	ops := func() []Address { return []Address{sigAddr("op1"), sigAddr("op2"), sigAddr("op3")} }
	return []sigSample{
		{"register_program", true, func() *Tx {
			return NewTx(7331, 0, 1_900_000_000, &RegisterProgram{Symbol: "ACME", Name: "Acme Café — Ünïcødé ☕", Policy: policy(), Operators: ops()})
		}},
		{"register_program/empty_arrays", true, func() *Tx {
			return NewTx(7331, 1, 0, &RegisterProgram{Symbol: "ZZ99", Name: ""})
		}},
		{"register_program/max_days", false, func() *Tx {
			return NewTx(7331, max, max, &RegisterProgram{Symbol: "MAX", Name: "m", Policy: Policy{PendingDays: math.MaxUint32, ExpiryDays: math.MaxUint32, TierWindowDays: math.MaxUint32, Tiers: []Tier{{"", 0}}}, Operators: []Address{{}}})
		}},
		{"update_program", true, func() *Tx {
			return NewTx(7331, 2, 0, &UpdateProgram{Program: "ACME", SetPolicy: true, Policy: policy(), SetOperators: true, Operators: ops()[:2], NewOwner: sigAddr("new owner"), Retire: true})
		}},
		{"update_program/retire_only", true, func() *Tx {
			return NewTx(7331, 3, 0, &UpdateProgram{Program: "ACME", Retire: true})
		}},
		{"earn", true, func() *Tx {
			return NewTx(7331, 4, 1_900_000_000, &Earn{Program: "ACME", Credits: []Credit{
				{sigAddr("alice"), 120, "order-1001"},
				{sigAddr("bob"), max, "order/1002 «ünï»"},
				{sigAddr("carol"), 1, "x"},
			}})
		}},
		{"earn/no_credits", false, func() *Tx { return NewTx(7331, 5, 0, &Earn{Program: "ACME"}) }},
		{"reverse", true, func() *Tx {
			return NewTx(7331, 6, 0, &Reverse{Program: "ACME", OrderRef: "order-1001", Amount: max})
		}},
		{"transfer", true, func() *Tx {
			return NewTx(7331, 7, 1_900_000_000, &Transfer{Program: "ACME", To: sigAddr("bob"), Amount: 250, Memo: "merci 🎁 <3 & \"thanks\"\n\t\\"})
		}},
		{"transfer/max_empty_memo", true, func() *Tx {
			return NewTx(7331, max, max, &Transfer{Program: "ACME", To: sigAddr("bob"), Amount: max})
		}},
		{"redeem", true, func() *Tx {
			return NewTx(7331, 8, 0, &Redeem{Program: "ACME", Amount: 500, RewardRef: "reward:free-coffee#42"})
		}},
		{"set_rate", true, func() *Tx {
			return NewTx(7331, 9, 0, &SetRate{From: "ACME", To: "BOOKS", Numerator: 3, Denominator: 2, DailyCap: max})
		}},
		{"exchange", true, func() *Tx {
			return NewTx(7331, 10, 1_900_000_000, &Exchange{From: "ACME", To: "BOOKS", Amount: max, MinOut: max - 1})
		}},
		{"settle", true, func() *Tx {
			return NewTx(7331, 11, 0, &Settle{Program: "BOOKS", Counterparty: "ACME", Amount: 1_234_567_890_123})
		}},
		{"propose/admit", true, func() *Tx {
			return NewTx(7331, 12, 0, &Propose{Action: ActionAdmitPartner, Partner: sigAddr("dora"), Name: "Dora's Bäckerei"})
		}},
		{"propose/rotate", true, func() *Tx {
			return NewTx(7331, 13, 1_900_000_000, &Propose{Action: ActionRotateOwnerKey, Partner: sigAddr("alice"), NewKey: sigAddr("alice 2")})
		}},
		{"approve", true, func() *Tx { return NewTx(7331, 14, 0, &Approve{Proposal: max}) }},
		{"propose_validator/add", true, func() *Tx {
			return NewTx(7331, 15, 0, sigValidatorProposal(ActionAddValidator, Address{}, "validator-5 ✓", "/ip4/203.0.113.5/tcp/8646", "/dns4/v5.example.com/tcp/8646"))
		}},
		{"propose_validator/rotate", true, func() *Tx {
			return NewTx(7331, max, max, sigValidatorProposal(ActionRotateValidatorKey, sigAddr("validator 2"), "validator-2"))
		}},
		{"propose_validator/remove", true, func() *Tx {
			return NewTx(7331, 16, 0, &ProposeValidator{Action: ActionRemoveValidator, Validator: sigAddr("validator 3")})
		}},
	}
}

// sigValidatorKey is the fixed key of the validator the samples and vectors add or rotate to.
var sigValidatorKey, _ = crypto.ToECDSA(crypto.Keccak256([]byte("loyal validator key 5")))

// sigValidatorProposal is a proposal adding (or rotating validator to) sigValidatorKey's
// entry, with its proof of possession under sigTestDomain.
func sigValidatorProposal(a Action, validator Address, name string, addrs ...string) *ProposeValidator {
	entry := &ValidatorKey{Name: name, Partner: sigAddr("loyal partner 2"), PubKey: crypto.CompressPubkey(&sigValidatorKey.PublicKey), Multiaddrs: addrs}
	proof, err := SignPossession(sigTestDomain, entry, sigValidatorKey)
	if err != nil {
		panic(err)
	}
	return &ProposeValidator{Action: a, Validator: validator, Entry: entry, Proof: proof[:]}
}

// sigTB is what the cross-check helpers need; both *testing.T and *rapid.T provide it.
type sigTB interface {
	Helper()
	Fatalf(format string, args ...any)
}

// apitypesDigest computes the EIP-712 hashes of tx with go-ethereum's generic implementation,
// starting from TypedDataJSON's output, as a wallet would.
func apitypesDigest(tb sigTB, d Domain, tx *Tx) (sep, msg, digest Hash) {
	tb.Helper()
	js, err := TypedDataJSON(d, tx)
	if err != nil {
		tb.Fatalf("TypedDataJSON: %v", err)
	}
	var td apitypes.TypedData
	if err := json.Unmarshal(js, &td); err != nil {
		tb.Fatalf("unmarshal typed data: %v\n%s", err, js)
	}
	s, err := td.HashStruct("EIP712Domain", td.Domain.Map())
	if err != nil {
		tb.Fatalf("apitypes domain: %v\n%s", err, js)
	}
	m, err := td.HashStruct(td.PrimaryType, td.Message)
	if err != nil {
		tb.Fatalf("apitypes message: %v\n%s", err, js)
	}
	dg, _, err := apitypes.TypedDataAndHash(td)
	if err != nil {
		tb.Fatalf("apitypes digest: %v\n%s", err, js)
	}
	return Hash(s), Hash(m), Hash(dg)
}

func checkAgainstAPITypes(tb sigTB, d Domain, tx *Tx) {
	tb.Helper()
	wantSep, wantMsg, wantDigest := apitypesDigest(tb, d, tx)
	if got := d.Separator(); got != wantSep {
		tb.Fatalf("domain separator %s, apitypes %s", got, wantSep)
	}
	gotMsg, err := structHash(tx)
	if err != nil {
		tb.Fatalf("structHash: %v", err)
	}
	if gotMsg != wantMsg {
		tb.Fatalf("%s struct hash %s, apitypes %s", tx.Kind(), gotMsg, wantMsg)
	}
	s := NewSigner(d.ChainID, d.Salt)
	if got := s.Digest(tx); got != wantDigest {
		tb.Fatalf("%s digest %s, apitypes %s", tx.Kind(), got, wantDigest)
	}
}

// The type strings are part of the protocol: wallets and other implementations hash them.
func TestEIP712EncodeTypeIsTheSpec(t *testing.T) {
	want := map[string]string{
		"EIP712Domain":     "EIP712Domain(string name,string version,uint256 chainId,bytes32 salt)",
		"RegisterProgram":  "RegisterProgram(uint64 nonce,uint64 validUntil,string symbol,string name,Policy policy,address[] operators)Policy(uint32 pendingDays,uint32 expiryDays,uint32 tierWindowDays,Tier[] tiers)Tier(string name,uint64 threshold)",
		"UpdateProgram":    "UpdateProgram(uint64 nonce,uint64 validUntil,string program,bool setPolicy,Policy policy,bool setOperators,address[] operators,address newOwner,bool retire)Policy(uint32 pendingDays,uint32 expiryDays,uint32 tierWindowDays,Tier[] tiers)Tier(string name,uint64 threshold)",
		"Earn":             "Earn(uint64 nonce,uint64 validUntil,string program,Credit[] credits)Credit(address to,uint64 amount,string orderRef)",
		"Reverse":          "Reverse(uint64 nonce,uint64 validUntil,string program,string orderRef,uint64 amount)",
		"Transfer":         "Transfer(uint64 nonce,uint64 validUntil,string program,address to,uint64 amount,string memo)",
		"Redeem":           "Redeem(uint64 nonce,uint64 validUntil,string program,uint64 amount,string rewardRef)",
		"SetRate":          "SetRate(uint64 nonce,uint64 validUntil,string from,string to,uint64 numerator,uint64 denominator,uint64 dailyCap)",
		"Exchange":         "Exchange(uint64 nonce,uint64 validUntil,string from,string to,uint64 amount,uint64 minOut)",
		"Settle":           "Settle(uint64 nonce,uint64 validUntil,string program,string counterparty,uint64 amount)",
		"Propose":          "Propose(uint64 nonce,uint64 validUntil,string action,address partner,string name,address newKey)",
		"Approve":          "Approve(uint64 nonce,uint64 validUntil,uint64 proposal)",
		"ProposeValidator": "ProposeValidator(uint64 nonce,uint64 validUntil,string action,address validator,ValidatorKey entry,bytes proof)ValidatorKey(string name,address partner,bytes pubKey,string[] multiaddrs)",
		"ValidatorKey":     "ValidatorKey(string name,address partner,bytes pubKey,string[] multiaddrs)",
		"Policy":           "Policy(uint32 pendingDays,uint32 expiryDays,uint32 tierWindowDays,Tier[] tiers)Tier(string name,uint64 threshold)",
		"Tier":             "Tier(string name,uint64 threshold)",
		"Credit":           "Credit(address to,uint64 amount,string orderRef)",
	}
	if len(want) != len(eip712Types) {
		t.Fatalf("%d types defined, spec has %d", len(eip712Types), len(want))
	}
	td := apitypes.TypedData{Types: apitypes.Types{}}
	for name, fields := range EIP712Types() {
		for _, f := range fields {
			td.Types[name] = append(td.Types[name], apitypes.Type{Name: f.Name, Type: f.Type})
		}
	}
	for name, w := range want {
		if got := eip712EncodeType(name); got != w {
			t.Errorf("encodeType(%s)\n got %s\nwant %s", name, got, w)
		}
		if got := string(td.EncodeType(name)); got != w {
			t.Errorf("apitypes encodeType(%s)\n got %s\nwant %s", name, got, w)
		}
	}
	for _, k := range Kinds {
		if _, ok := want[PrimaryType(k)]; !ok {
			t.Errorf("kind %s has primary type %q", k, PrimaryType(k))
		}
	}
	if PrimaryType(0) != "" || PrimaryType(200) != "" {
		t.Error("unknown kinds must have no primary type")
	}
}

// Every kind, hashed by our code, gives apitypes' digest of the JSON a wallet would sign.
func TestEIP712DigestMatchesAPITypes(t *testing.T) {
	domains := []Domain{
		sigTestDomain,
		{ChainID: 1, Salt: Hash{}},
		{ChainID: math.MaxUint64, Salt: crypto.Keccak256Hash([]byte("other genesis"))},
	}
	for _, d := range domains {
		for _, s := range sigSamples() {
			t.Run(s.name, func(t *testing.T) { checkAgainstAPITypes(t, d, s.build()) })
		}
	}
}

func sigGenString(t *rapid.T, label string) string {
	return rapid.OneOf(rapid.String(), rapid.StringMatching(`[A-Z0-9]{0,12}`), rapid.Just("")).Draw(t, label)
}

func sigGenAddress(t *rapid.T, label string) Address {
	return common.BytesToAddress(rapid.SliceOfN(rapid.Byte(), 20, 20).Draw(t, label))
}

func sigGenU64(t *rapid.T, label string) uint64 {
	return rapid.OneOf(rapid.Uint64(), rapid.Just(uint64(0)), rapid.Just(uint64(math.MaxUint64))).Draw(t, label)
}

func sigGenPolicy(t *rapid.T) Policy {
	p := Policy{
		PendingDays:    rapid.Uint32().Draw(t, "pendingDays"),
		ExpiryDays:     rapid.Uint32().Draw(t, "expiryDays"),
		TierWindowDays: rapid.Uint32().Draw(t, "tierWindowDays"),
	}
	n := rapid.IntRange(0, 4).Draw(t, "tiers")
	for range n {
		p.Tiers = append(p.Tiers, Tier{sigGenString(t, "tierName"), sigGenU64(t, "threshold")})
	}
	return p
}

func sigGenAddresses(t *rapid.T, label string) []Address {
	n := rapid.IntRange(0, 4).Draw(t, label)
	var as []Address
	for range n {
		as = append(as, sigGenAddress(t, label))
	}
	return as
}

// sigGenTx draws a transaction of any kind with arbitrary field values, valid or not: the
// digest is defined for every value the types can hold.
func sigGenTx(t *rapid.T) *Tx {
	var p Payload
	switch k := rapid.SampledFrom(Kinds).Draw(t, "kind"); k {
	case KindRegisterProgram:
		p = &RegisterProgram{Symbol: sigGenString(t, "symbol"), Name: sigGenString(t, "name"), Policy: sigGenPolicy(t), Operators: sigGenAddresses(t, "operators")}
	case KindUpdateProgram:
		p = &UpdateProgram{Program: sigGenString(t, "program"), SetPolicy: rapid.Bool().Draw(t, "setPolicy"), Policy: sigGenPolicy(t),
			SetOperators: rapid.Bool().Draw(t, "setOperators"), Operators: sigGenAddresses(t, "operators"),
			NewOwner: sigGenAddress(t, "newOwner"), Retire: rapid.Bool().Draw(t, "retire")}
	case KindEarn:
		e := &Earn{Program: sigGenString(t, "program")}
		for range rapid.IntRange(0, 5).Draw(t, "credits") {
			e.Credits = append(e.Credits, Credit{sigGenAddress(t, "to"), sigGenU64(t, "amount"), sigGenString(t, "orderRef")})
		}
		p = e
	case KindReverse:
		p = &Reverse{Program: sigGenString(t, "program"), OrderRef: sigGenString(t, "orderRef"), Amount: sigGenU64(t, "amount")}
	case KindTransfer:
		p = &Transfer{Program: sigGenString(t, "program"), To: sigGenAddress(t, "to"), Amount: sigGenU64(t, "amount"), Memo: sigGenString(t, "memo")}
	case KindRedeem:
		p = &Redeem{Program: sigGenString(t, "program"), Amount: sigGenU64(t, "amount"), RewardRef: sigGenString(t, "rewardRef")}
	case KindSetRate:
		p = &SetRate{From: sigGenString(t, "from"), To: sigGenString(t, "to"), Numerator: sigGenU64(t, "num"), Denominator: sigGenU64(t, "den"), DailyCap: sigGenU64(t, "cap")}
	case KindExchange:
		p = &Exchange{From: sigGenString(t, "from"), To: sigGenString(t, "to"), Amount: sigGenU64(t, "amount"), MinOut: sigGenU64(t, "minOut")}
	case KindSettle:
		p = &Settle{Program: sigGenString(t, "program"), Counterparty: sigGenString(t, "counterparty"), Amount: sigGenU64(t, "amount")}
	case KindPropose:
		p = &Propose{Action: rapid.SampledFrom([]Action{ActionAdmitPartner, ActionRemovePartner, ActionRotateOwnerKey}).Draw(t, "action"),
			Partner: sigGenAddress(t, "partner"), Name: sigGenString(t, "name"), NewKey: sigGenAddress(t, "newKey")}
	case KindApprove:
		p = &Approve{Proposal: sigGenU64(t, "proposal")}
	case KindProposeValidator:
		pv := &ProposeValidator{Action: rapid.SampledFrom([]Action{ActionAddValidator, ActionRemoveValidator, ActionRotateValidatorKey}).Draw(t, "action"),
			Validator: sigGenAddress(t, "validator"), Proof: rapid.SliceOfN(rapid.Byte(), 0, 70).Draw(t, "proof")}
		if rapid.Bool().Draw(t, "entry") {
			pv.Entry = &ValidatorKey{Name: sigGenString(t, "name"), Partner: sigGenAddress(t, "partner"),
				PubKey: rapid.SliceOfN(rapid.Byte(), 0, 40).Draw(t, "pubKey")}
			for range rapid.IntRange(0, 4).Draw(t, "multiaddrs") {
				pv.Entry.Multiaddrs = append(pv.Entry.Multiaddrs, sigGenString(t, "multiaddr"))
			}
		}
		p = pv
	default:
		t.Fatalf("kind %s not generated", k)
	}
	return NewTx(sigGenU64(t, "chainID"), sigGenU64(t, "nonce"), sigGenU64(t, "validUntil"), p)
}

// Property: for random payloads of every kind and random domains, the hand-written digest
// equals apitypes' digest of TypedDataJSON's output.
func TestEIP712DigestPropertyMatchesAPITypes(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		tx := sigGenTx(rt)
		d := Domain{ChainID: tx.ChainID, Salt: Hash(rapid.SliceOfN(rapid.Byte(), 32, 32).Draw(rt, "salt"))}
		checkAgainstAPITypes(rt, d, tx)
	})
}

func TestEIP712TypedDataJSONShape(t *testing.T) {
	tx := NewTx(7331, 7, 0, &Transfer{Program: "ACME", To: sigAddr("bob"), Amount: math.MaxUint64, Memo: "<3"})
	js, err := TypedDataJSON(sigTestDomain, tx)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Types       map[string][]EIP712Field `json:"types"`
		PrimaryType string                   `json:"primaryType"`
		Domain      map[string]any           `json:"domain"`
		Message     map[string]any           `json:"message"`
	}
	if err := json.Unmarshal(js, &got); err != nil {
		t.Fatal(err)
	}
	if got.PrimaryType != "Transfer" || len(got.Types) != 2 || got.Types["EIP712Domain"] == nil || got.Types["Transfer"] == nil {
		t.Errorf("types/primaryType: %s", js)
	}
	if got.Domain["chainId"] != float64(7331) || got.Domain["name"] != "Loyal" || got.Domain["version"] != "1" ||
		got.Domain["salt"] != sigTestDomain.Salt.Hex() {
		t.Errorf("domain: %v", got.Domain)
	}
	if got.Message["amount"] != "18446744073709551615" || got.Message["nonce"] != "7" || got.Message["validUntil"] != "0" {
		t.Errorf("uint64 values must be decimal strings: %v", got.Message)
	}
	if got.Message["to"] != sigAddr("bob").Hex() {
		t.Errorf("address must be EIP-55: %v", got.Message["to"])
	}
	if _, ok := got.Message["chainId"]; ok {
		t.Error("chain id belongs in the domain, not the message")
	}
	if !bytes.Contains(js, []byte(`"memo":"<3"`)) {
		t.Errorf("memo must not be HTML-escaped: %s", js)
	}
	// Message members come in type order, for people reading them in a wallet.
	order := []string{`"nonce"`, `"validUntil"`, `"program"`, `"to"`, `"amount"`, `"memo"`}
	msg := js[bytes.Index(js, []byte(`"message"`)):]
	last := -1
	for _, k := range order {
		i := bytes.Index(msg, []byte(k))
		if i <= last {
			t.Errorf("message member %s out of order: %s", k, msg)
		}
		last = i
	}

	// Empty arrays are [] (apitypes and wallets reject null).
	js, err = TypedDataJSON(sigTestDomain, NewTx(1, 0, 0, &RegisterProgram{Symbol: "AB"}))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(js, []byte(`"tiers":[]`)) || !bytes.Contains(js, []byte(`"operators":[]`)) || bytes.Contains(js, []byte("null")) {
		t.Errorf("empty arrays: %s", js)
	}
}

func TestEIP712TypedDataJSONRejectsInvalidUTF8(t *testing.T) {
	for _, tx := range []*Tx{
		NewTx(1, 0, 0, &Transfer{Program: "ACME", To: sigAddr("bob"), Amount: 1, Memo: "bad \xff"}),
		NewTx(1, 0, 0, &RegisterProgram{Symbol: "AB", Policy: Policy{Tiers: []Tier{{"\xc3", 1}}}}),
		NewTx(1, 0, 0, &Earn{Program: "ACME", Credits: []Credit{{sigAddr("a"), 1, "\x80"}}}),
		{ChainID: 1},
	} {
		if _, err := TypedDataJSON(sigTestDomain, tx); !errors.Is(err, ErrMalformed) {
			t.Errorf("TypedDataJSON(%v) error %v, want ErrMalformed", tx.Payload, err)
		}
	}
}

func TestEIP712DomainJSON(t *testing.T) {
	for _, d := range []Domain{sigTestDomain, {ChainID: 0}, {ChainID: maxSafeJSONInt, Salt: Hash{1}}, {ChainID: maxSafeJSONInt + 1}, {ChainID: math.MaxUint64}} {
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		if d.ChainID > maxSafeJSONInt != bytes.Contains(b, []byte(`"chainId":"`)) {
			t.Errorf("chain id %d: only ids above 2^53-1 are strings: %s", d.ChainID, b)
		}
		var back Domain
		if err := json.Unmarshal(b, &back); err != nil || back != d {
			t.Errorf("round trip of %s: %+v, %v", b, back, err)
		}
	}
	for _, bad := range []string{
		`{"name":"Other","version":"1","chainId":1,"salt":"0x0000000000000000000000000000000000000000000000000000000000000000"}`,
		`{"name":"Loyal","version":"2","chainId":1,"salt":"0x0000000000000000000000000000000000000000000000000000000000000000"}`,
		`{"name":"Loyal","version":"1","chainId":-1,"salt":"0x0000000000000000000000000000000000000000000000000000000000000000"}`,
		`{"name":"Loyal","version":"1","salt":"0x0000000000000000000000000000000000000000000000000000000000000000"}`,
	} {
		var d Domain
		if err := json.Unmarshal([]byte(bad), &d); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: error %v, want ErrMalformed", bad, err)
		}
	}
}

func TestEIP712Spec(t *testing.T) {
	spec := sigTestDomain.Spec()
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	var back EIP712Spec
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Domain != sigTestDomain || back.PrimaryTypes["transfer"] != "Transfer" || len(back.PrimaryTypes) != len(Kinds) ||
		len(back.Types) != len(eip712Types) {
		t.Errorf("spec round trip: %s", b)
	}
	// EIP712Types hands out copies: the protocol's table cannot be changed through it.
	EIP712Types()["Transfer"][0].Name = "changed"
	if eip712Types["Transfer"][0].Name != "nonce" {
		t.Fatal("EIP712Types exposed the internal table")
	}
}

func TestEIP712DigestNoPayload(t *testing.T) {
	for _, tx := range []*Tx{{ChainID: 1}, {ChainID: 1, Payload: (*Transfer)(nil)}, {ChainID: 1, Payload: (*RegisterProgram)(nil)}} {
		if _, err := structHash(tx); !errors.Is(err, ErrMalformed) {
			t.Errorf("payload %#v: error %v, want ErrMalformed", tx.Payload, err)
		}
	}
}

// A digest allocates nothing once the pooled hasher is warm.
func TestEIP712DigestAllocs(t *testing.T) {
	if testing.Short() || raceEnabled() {
		t.Skip("allocation counts are not meaningful under -race")
	}
	s := NewSigner(sigTestDomain.ChainID, sigTestDomain.Salt)
	for _, smp := range sigSamples() {
		tx := smp.build()
		s.Digest(tx)
		if n := testing.AllocsPerRun(100, func() { s.Digest(tx) }); n > 0 {
			t.Errorf("%s: %v allocations per digest", smp.name, n)
		}
	}
}

// raceEnabled reports whether the test binary was built with -race, under which sync.Pool
// deliberately drops items (and so allocates).
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

func sigBenchTransfer() *Tx {
	return NewTx(7331, 42, 1_900_000_000, &Transfer{Program: "ACME", To: sigAddr("bob"), Amount: 250, Memo: "thanks for the coffee"})
}

func BenchmarkDigestTransfer(b *testing.B) {
	s := NewSigner(sigTestDomain.ChainID, sigTestDomain.Salt)
	tx := sigBenchTransfer()
	b.ReportAllocs()
	for b.Loop() {
		s.Digest(tx)
	}
}

// BenchmarkDigestTransferAPITypes is the baseline: go-ethereum's generic EIP-712 hashing of
// an already parsed typed-data message (the JSON parsing is not counted).
func BenchmarkDigestTransferAPITypes(b *testing.B) {
	js, err := TypedDataJSON(sigTestDomain, sigBenchTransfer())
	if err != nil {
		b.Fatal(err)
	}
	var td apitypes.TypedData
	if err := json.Unmarshal(js, &td); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := apitypes.TypedDataAndHash(td); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDigestEarn100 shows the cost per credit of a campaign earn.
func BenchmarkDigestEarn100(b *testing.B) {
	s := NewSigner(sigTestDomain.ChainID, sigTestDomain.Salt)
	e := &Earn{Program: "ACME"}
	for i := range 100 {
		e.Credits = append(e.Credits, Credit{sigAddr(string(rune('a' + i%26))), uint64(i + 1), "order-" + string(rune('A'+i%26))})
	}
	tx := NewTx(7331, 1, 0, e)
	b.ReportAllocs()
	for b.Loop() {
		s.Digest(tx)
	}
}

func BenchmarkRecover(b *testing.B) {
	s := NewSigner(sigTestDomain.ChainID, sigTestDomain.Salt)
	tx := sigBenchTransfer()
	key := sigKey(b, "loyal test key 3")
	if err := s.Sign(tx, key); err != nil {
		b.Fatal(err)
	}
	want := crypto.PubkeyToAddress(key.PublicKey)
	b.ReportAllocs()
	for b.Loop() {
		got, err := s.Sender(tx)
		if err != nil || got != want {
			b.Fatal(got, err)
		}
	}
}

package chain

import (
	"slices"
	"unicode/utf8"

	"github.com/ethereum/go-ethereum/crypto"
)

// A program's policy travels in RegisterProgram and UpdateProgram, is kept in the program
// record and in genesis, and is signed as the EIP-712 struct Policy: one encoding and one set
// of rules for all of them.

// Tier is a named status reached when a customer's earned points (net of reversals) within
// the program's tier window reach Threshold.
type Tier struct {
	Name      string `json:"name"`
	Threshold uint64 `json:"threshold,string"`
}

// Policy is a program's rules for points earned from the moment it is set.
type Policy struct {
	PendingDays    uint32 `json:"pending_days"`     // earned points are locked for the return window
	ExpiryDays     uint32 `json:"expiry_days"`      // 0 = never; counted from when points become available
	TierWindowDays uint32 `json:"tier_window_days"` // 0 = lifetime
	Tiers          []Tier `json:"tiers"`            // ascending, strictly increasing thresholds
}

// Protocol bounds on a policy, independent of the genesis limits.
const (
	MaxPendingDays    = 3660
	MaxExpiryDays     = 36600
	MaxTierWindowDays = 3660
	maxTierNameLen    = 32
)

func (p *Policy) encode(e *encoder) {
	e.U32(p.PendingDays)
	e.U32(p.ExpiryDays)
	e.U32(p.TierWindowDays)
	e.U32(uint32(len(p.Tiers)))
	for _, t := range p.Tiers {
		e.Str(t.Name)
		e.U64(t.Threshold)
	}
}

func (p *Policy) decode(d *decoder) {
	p.PendingDays = d.U32()
	p.ExpiryDays = d.U32()
	p.TierWindowDays = d.U32()
	n := d.Count(maxDecodeTiers, 10)
	p.Tiers = nil
	if n > 0 {
		p.Tiers = make([]Tier, n)
	}
	for i := range p.Tiers {
		p.Tiers[i].Name = d.Str(maxTierNameLen)
		p.Tiers[i].Threshold = d.U64()
	}
}

func (p *Policy) check() error {
	switch {
	case p.PendingDays > MaxPendingDays:
		return rejectf(ErrBadPolicy, "pending_days %d exceeds %d", p.PendingDays, MaxPendingDays)
	case p.ExpiryDays > MaxExpiryDays:
		return rejectf(ErrBadPolicy, "expiry_days %d exceeds %d", p.ExpiryDays, MaxExpiryDays)
	case p.TierWindowDays > MaxTierWindowDays:
		return rejectf(ErrBadPolicy, "tier_window_days %d exceeds %d", p.TierWindowDays, MaxTierWindowDays)
	case len(p.Tiers) > maxDecodeTiers:
		return rejectf(ErrBadPolicy, "%d tiers exceed %d", len(p.Tiers), maxDecodeTiers)
	}
	for i, t := range p.Tiers {
		if t.Name == "" || len(t.Name) > maxTierNameLen || !utf8.ValidString(t.Name) {
			return rejectf(ErrBadPolicy, "tier %d: name must be 1 to %d bytes of UTF-8", i, maxTierNameLen)
		}
		if i > 0 && t.Threshold <= p.Tiers[i-1].Threshold {
			return rejectf(ErrBadPolicy, "tier %q: thresholds must strictly increase", t.Name)
		}
	}
	return nil
}

// clonePolicy copies p, so that a program in the state never shares its tiers with the
// transaction that set them.
func clonePolicy(p Policy) Policy {
	p.Tiers = slices.Clone(p.Tiers)
	return p
}

// policyStructs are the EIP-712 types of a policy, which RegisterProgram and UpdateProgram
// both reference.
var policyStructs = []eip712Struct{
	{"Policy", []EIP712Field{
		{"pendingDays", "uint32"}, {"expiryDays", "uint32"}, {"tierWindowDays", "uint32"}, {"tiers", "Tier[]"},
	}},
	{"Tier", []EIP712Field{{"name", "string"}, {"threshold", "uint64"}}},
}

// The policy types' hashes, computed once.
var (
	typeHashPolicy = crypto.Keccak256Hash([]byte(eip712EncodeType("Policy")))
	typeHashTier   = crypto.Keccak256Hash([]byte(eip712EncodeType("Tier")))
)

// tier writes the encodeData of a Tier to buf.
func (h *hasher) tier(t *Tier) {
	name := h.str(t.Name)
	h.buf = appendHash(h.buf[:0], typeHashTier)
	h.buf = appendHash(h.buf, name)
	h.buf = appendUint(h.buf, t.Threshold)
}

// policy is hashStruct(Policy). Uses buf: call it before assembling the enclosing struct.
func (h *hasher) policy(p *Policy) Hash {
	tiers := structArray(h, p.Tiers, (*hasher).tier)
	h.buf = appendHash(h.buf[:0], typeHashPolicy)
	h.buf = appendUint(h.buf, uint64(p.PendingDays))
	h.buf = appendUint(h.buf, uint64(p.ExpiryDays))
	h.buf = appendUint(h.buf, uint64(p.TierWindowDays))
	h.buf = appendHash(h.buf, tiers)
	return h.sum(h.buf)
}

// policy is the typed-data JSON of a policy.
func (t *typedDataBuilder) policy(p *Policy) jsonObject {
	tiers := make([]jsonObject, len(p.Tiers))
	for i, tr := range p.Tiers {
		tiers[i] = jsonObject{{"name", t.str("tier name", tr.Name)}, {"threshold", u64JSON(tr.Threshold)}}
	}
	return jsonObject{
		{"pendingDays", p.PendingDays},
		{"expiryDays", p.ExpiryDays},
		{"tierWindowDays", p.TierWindowDays},
		{"tiers", tiers},
	}
}

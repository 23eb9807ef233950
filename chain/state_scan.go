package chain

import (
	"encoding/binary"
	"fmt"
)

// StateScanner yields, in key order, the committed state records whose keys start with
// prefix; key and value are valid only during fn. The ledger's ScanState is one.
type StateScanner func(prefix []byte, fn func(key, value []byte) error) error

// ForEachProgram decodes every program record scan yields, in symbol order.
func ForEachProgram(scan StateScanner, fn func(p *Program) error) error {
	return scan([]byte{nsProgram}, func(k, v []byte) error {
		p, err := DecodeProgram(v)
		if err != nil {
			return fmt.Errorf("chain: program record %x: %w", k, err)
		}
		return fn(p)
	})
}

// ForEachRoute decodes every exchange route record scan yields, by (from, to).
func ForEachRoute(scan StateScanner, fn func(from, to string, r *Route) error) error {
	return scan([]byte{nsRoute}, func(k, v []byte) error {
		from, to, ok := splitPairKey(k)
		if !ok {
			return fmt.Errorf("chain: malformed route key %x", k)
		}
		r, err := DecodeRoute(v)
		if err != nil {
			return fmt.Errorf("chain: route %s>%s: %w", from, to, err)
		}
		return fn(from, to, r)
	})
}

// ForEachPosition decodes every settlement position record scan yields, by (debtor,
// creditor): what the owner of debtor's program owes the owner of creditor's.
func ForEachPosition(scan StateScanner, fn func(debtor, creditor string, p *Position) error) error {
	return scan([]byte{nsPosition}, func(k, v []byte) error {
		debtor, creditor, ok := splitPairKey(k)
		if !ok {
			return fmt.Errorf("chain: malformed position key %x", k)
		}
		p, err := DecodePosition(v)
		if err != nil {
			return fmt.Errorf("chain: position %s>%s: %w", debtor, creditor, err)
		}
		return fn(debtor, creditor, p)
	})
}

// ForEachAccount decodes every account record scan yields, in address order.
func ForEachAccount(scan StateScanner, fn func(a Address, acc *Account) error) error {
	return scan([]byte{nsAccount}, func(k, v []byte) error {
		if len(k) != 1+len(Address{}) {
			return fmt.Errorf("chain: account key %x of %d bytes", k, len(k))
		}
		acc, err := DecodeAccount(v)
		if err != nil {
			return fmt.Errorf("chain: account record %x: %w", k, err)
		}
		return fn(Address(k[1:]), acc)
	})
}

// PartnerInfo is a current partner as the state holds it: its key and its name.
type PartnerInfo struct {
	Address Address `json:"address"`
	Name    string  `json:"name"`
}

// ForEachPartner decodes every current partner scan yields, in address order.
func ForEachPartner(scan StateScanner, fn func(p PartnerInfo) error) error {
	return scan([]byte{nsPartner}, func(k, v []byte) error {
		if len(k) != 1+len(Address{}) || len(v) == 0 || v[0] != recordVersion {
			return fmt.Errorf("chain: malformed partner record %x", k)
		}
		return fn(PartnerInfo{Address: Address(k[1:]), Name: string(v[1:])})
	})
}

// ForEachProposal decodes every governance proposal scan yields, oldest first.
func ForEachProposal(scan StateScanner, fn func(p *Proposal) error) error {
	return scan([]byte{nsProposal}, func(k, v []byte) error {
		p, err := DecodeProposal(v)
		if err != nil {
			return fmt.Errorf("chain: proposal record %x: %w", k, err)
		}
		return fn(p)
	})
}

// ProgramPartner returns the partner whose program symbol is (Version2, ADR 0009), if the
// state records one; lookup reads a committed state record by key.
func ProgramPartner(lookup func(key []byte) ([]byte, error), symbol string) (Address, bool, error) {
	v, err := lookup(programPartnerKey(symbol))
	if err != nil || len(v) != 1+len(Address{}) {
		return Address{}, false, err
	}
	return Address(v[1:]), true, nil
}

// LastProposalID returns the id the last proposal was given, 0 before the first (Version2,
// ADR 0009); lookup reads a committed state record by key.
func LastProposalID(lookup func(key []byte) ([]byte, error)) (uint64, error) {
	v, err := lookup([]byte{nsProposalSeq})
	if err != nil || len(v) != 8 {
		return 0, err
	}
	return binary.BigEndian.Uint64(v), nil
}

package chain

import "fmt"

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

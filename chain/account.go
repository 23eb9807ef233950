package chain

import (
	"fmt"
	"slices"
	"strings"
)

// Holding is an account's balance in one program.
type Holding struct {
	Program string  `json:"program"`
	Balance Balance `json:"balance"`
}

// Account is everything one address holds: its nonce and its balance in every program it
// has points or history in, sorted by symbol. It is one state record, so a transfer updates
// two records of the state map (sender, recipient), and one proof shows an account's
// balance in a program — or, by the program's absence, that it holds none.
type Account struct {
	Nonce    uint64    `json:"nonce,string"`
	Holdings []Holding `json:"holdings"`
}

// Balance returns the account's balance in a program, or nil if it has none.
func (a *Account) Balance(symbol string) *Balance {
	i, ok := slices.BinarySearchFunc(a.Holdings, symbol, func(h Holding, s string) int { return strings.Compare(h.Program, s) })
	if !ok {
		return nil
	}
	return &a.Holdings[i].Balance
}

// holding returns the account's balance in a program, adding an empty one if needed.
func (a *Account) holding(symbol string) *Balance {
	i, ok := slices.BinarySearchFunc(a.Holdings, symbol, func(h Holding, s string) int { return strings.Compare(h.Program, s) })
	if !ok {
		a.Holdings = slices.Insert(a.Holdings, i, Holding{Program: symbol})
	}
	return &a.Holdings[i].Balance
}

// prune drops holdings with no lots and no earned history.
func (a *Account) prune() {
	a.Holdings = slices.DeleteFunc(a.Holdings, func(h Holding) bool {
		return len(h.Balance.Lots) == 0 && h.Balance.Earned == 0 && len(h.Balance.EarnedDays) == 0
	})
}

func (a *Account) empty() bool { return a.Nonce == 0 && len(a.Holdings) == 0 }

// clone deep-copies the account, for rolling back a failed transaction.
func (a *Account) clone() *Account {
	c := &Account{Nonce: a.Nonce, Holdings: make([]Holding, len(a.Holdings))}
	for i, h := range a.Holdings {
		c.Holdings[i] = Holding{Program: h.Program, Balance: Balance{
			Lots: slices.Clone(h.Balance.Lots), Earned: h.Balance.Earned, EarnedDays: slices.Clone(h.Balance.EarnedDays),
		}}
	}
	return c
}

// Encode is the canonical encoding of the account record, the value its proof commits to.
func (a *Account) Encode() []byte {
	n := 13
	for _, h := range a.Holdings {
		n += 3 + len(h.Program) + 16 + len(h.Balance.Lots)*16 + len(h.Balance.EarnedDays)*12
	}
	e := encoder{Buf: make([]byte, 0, n)}
	e.U8(recordVersion)
	e.U64(a.Nonce)
	e.U32(uint32(len(a.Holdings)))
	for i := range a.Holdings {
		h := &a.Holdings[i]
		e.Str(h.Program)
		h.Balance.encodeTo(&e)
	}
	return e.Buf
}

// DecodeAccount strictly decodes an account record, as proven by an account proof.
func DecodeAccount(buf []byte) (*Account, error) {
	d := newDecoder(buf)
	if v := d.U8(); d.Err == nil && v != recordVersion {
		return nil, fmt.Errorf("%w: account record version %d", ErrUnknownVersion, v)
	}
	a := &Account{Nonce: d.U64()}
	if n := d.Count(1<<20, 3+16); n > 0 {
		a.Holdings = make([]Holding, n)
		for i := range a.Holdings {
			a.Holdings[i].Program = d.Str(MaxSymbolLen)
			a.Holdings[i].Balance.decodeFrom(&d)
			if i > 0 && d.Err == nil && a.Holdings[i-1].Program >= a.Holdings[i].Program {
				d.Fail("holdings not sorted by program")
			}
		}
	}
	if err := d.Finish(); err != nil {
		return nil, err
	}
	return a, nil
}

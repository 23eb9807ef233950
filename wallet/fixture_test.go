package wallet

import "github.com/loyal-ledger/loyal/chain"

var bob = mustAddress("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359")

func mustAddress(s string) chain.Address {
	a, err := ParseAddress(s)
	if err != nil {
		panic(err)
	}
	return a
}

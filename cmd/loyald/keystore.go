package main

import (
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/wallet"
)

// resolveKey finds a wallet key's address by name or address.
func resolveKey(dir, nameOrAddress string) (chain.Address, error) {
	ks, err := wallet.OpenKeystore(dir, true)
	if err != nil {
		return chain.Address{}, err
	}
	return ks.Resolve(nameOrAddress)
}

package main

import (
	"github.com/loyal-ledger/loyal/chain"
	"github.com/loyal-ledger/loyal/wallet"
)

// resolveKey finds a wallet key's address by name or address, in dir or, if dir is empty,
// the wallet's default keystore (as `loyal` finds it: $LOYAL_KEYSTORE, else ~/.loyal/keystore).
func resolveKey(dir, nameOrAddress string) (chain.Address, error) {
	if dir == "" {
		d, err := wallet.DefaultKeystoreDir()
		if err != nil {
			return chain.Address{}, err
		}
		dir = d
	}
	ks, err := wallet.OpenKeystore(dir, true)
	if err != nil {
		return chain.Address{}, err
	}
	return ks.Resolve(nameOrAddress)
}

// Package wallet will hold the keystore, transaction building and signing on top of
// chain.Signer, the node API client and proof checking (issue 3).
package wallet

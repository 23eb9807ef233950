// Package wallet is the customer's side of Loyal as a Go library, and what the loyal CLI is
// made of: a keystore of Web3 Secret Storage (v3) key files addressed by name or address,
// passphrase sources, a client of the node's HTTP API that decodes exactly the bodies of
// package api, transaction sending on top of chain.Signer, and the parsing of addresses,
// hashes and amounts. It links neither the node, the ledger nor a storage engine. (The CLI's
// tables live in the internal package human.)
//
// # Use
//
//	ks, _ := wallet.OpenKeystore(dir, false)           // dir: wallet.DefaultKeystoreDir()
//	alice, _ := ks.New("alice", passphrase)            // a fresh secp256k1 key, named
//	key, _ := ks.Unlock("alice", passphrase)           // or by address, any valid case
//
//	c := &wallet.Client{BaseURL: wallet.DefaultNodeURL}
//	p := &chain.Transfer{Program: "ACME", To: bob, Amount: 50, Memo: "gift"}
//	sub, err := wallet.Send(ctx, c, key, p, 0)         // nonce from the node, EIP-712 signed
//	wallet.ZeroKey(key)
//	tx, err := wallet.Wait(ctx, c, sub.Hash)           // until committed or ctx is done
//
//	acct, _ := c.Account(ctx, alice.Address)         // an api.AccountInfo
//	err = c.EachBlock(ctx, 1, 0, func(b api.BlockInfo) error { ... }) // the chain, page by page
//
// A non-2xx answer of the node is an *APIError carrying the API's stable error code; use
// errors.As to read it. The Client is safe for concurrent use; a Keystore is safe for
// concurrent use within one process (its names file is not locked against other processes).
package wallet

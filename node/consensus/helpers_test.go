package consensus

import (
	"crypto/ecdsa"
	"fmt"
	"testing"

	"github.com/ethereum/go-ethereum/crypto"
	"github.com/loyal-ledger/loyal/chain"
)

const testChainID = 7

// testKeys are fixed validator keys (v0..v9), so signatures and traces are stable.
var testKeys = func() []*ecdsa.PrivateKey {
	keys := make([]*ecdsa.PrivateKey, 10)
	for i := range keys {
		k, err := crypto.ToECDSA(crypto.Keccak256([]byte(fmt.Sprintf("loyal consensus test key %d", i))))
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
}()

func testAddr(i int) chain.Address { return crypto.PubkeyToAddress(testKeys[i].PublicKey) }

func testValidators(n int) []chain.Address {
	vs := make([]chain.Address, n)
	for i := range vs {
		vs[i] = testAddr(i)
	}
	return vs
}

// keySigner is a Signer over a private key, as the node will have.
type keySigner struct{ key *ecdsa.PrivateKey }

func (s keySigner) Address() chain.Address { return crypto.PubkeyToAddress(s.key.PublicKey) }
func (s keySigner) SignVote(d chain.Hash) ([65]byte, error) {
	return chain.SignVote(s.key, d)
}

// failingSigner fails every signature.
type failingSigner struct{ addr chain.Address }

func (s failingSigner) Address() chain.Address { return s.addr }
func (s failingSigner) SignVote(chain.Hash) ([65]byte, error) {
	return [65]byte{}, fmt.Errorf("hsm unplugged")
}

// blockHash is the hash the tests use for a named block.
func blockHash(name string) chain.Hash {
	if name == "nil" {
		return chain.Hash{}
	}
	return crypto.Keccak256Hash([]byte("block " + name))
}

func signedVote(tb testing.TB, i int, t chain.VoteType, h uint64, r uint32, block chain.Hash) Vote {
	tb.Helper()
	v := Vote{Type: t, Height: h, Round: r, BlockHash: block, Validator: testAddr(i)}
	sig, err := chain.SignVote(testKeys[i], v.Digest(testChainID))
	if err != nil {
		tb.Fatal(err)
	}
	v.Sig = sig
	return v
}

func signedProposal(tb testing.TB, i int, h uint64, r uint32, pol int32, block chain.Hash, t uint64) Proposal {
	tb.Helper()
	p := Proposal{Height: h, Round: r, POLRound: pol, BlockHash: block, BlockTime: t, Proposer: testAddr(i)}
	sig, err := chain.SignVote(testKeys[i], p.Digest(testChainID))
	if err != nil {
		tb.Fatal(err)
	}
	p.Sig = sig
	return p
}

// testConfig is a config of n validators with Self = v[self] (self < 0: an observer).
func testConfig(n, self int) Config {
	cfg := Config{ChainID: testChainID, Validators: testValidators(n), Self: testAddr(7)}
	if self >= 0 {
		cfg.Self = testAddr(self)
		cfg.Signer = keySigner{testKeys[self]}
	}
	return cfg
}

package p2p

import (
	"crypto/ecdsa"
	"fmt"

	ethcrypto "github.com/ethereum/go-ethereum/crypto"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/loyal-ledger/loyal/chain"
)

// pubKeyLen is the length of a compressed secp256k1 public key, as genesis stores it.
const pubKeyLen = 33

// IdentityKey converts a validator's consensus key into the libp2p identity key, so that the
// host's peer id is PeerIDOf the validator's public key. The key must be on secp256k1.
func IdentityKey(key *ecdsa.PrivateKey) (crypto.PrivKey, error) {
	if key == nil || key.Curve == nil {
		return nil, ErrNotSecp256k1
	}
	if got, want := key.Params(), ethcrypto.S256().Params(); got.P.Cmp(want.P) != 0 || got.N.Cmp(want.N) != 0 {
		return nil, ErrNotSecp256k1
	}
	scalar := ethcrypto.FromECDSA(key)
	defer clear(scalar)
	sk, err := crypto.UnmarshalSecp256k1PrivateKey(scalar)
	if err != nil {
		return nil, fmt.Errorf("p2p: identity key: %w", err)
	}
	// Guard against a key whose public half does not belong to its scalar.
	raw, err := sk.GetPublic().Raw()
	if err != nil {
		return nil, fmt.Errorf("p2p: identity key: %w", err)
	}
	want := ethcrypto.CompressPubkey(&key.PublicKey)
	if string(raw) != string(want) {
		return nil, fmt.Errorf("p2p: identity key: public key does not match the private key")
	}
	return sk, nil
}

// PeerIDOf returns the peer id of a node whose identity is the given 33-byte compressed
// secp256k1 public key (chain.Validator.PubKey).
func PeerIDOf(pubKey []byte) (peer.ID, error) {
	if len(pubKey) != pubKeyLen {
		return "", fmt.Errorf("%w: %d bytes, want %d", ErrBadPubKey, len(pubKey), pubKeyLen)
	}
	pk, err := crypto.UnmarshalSecp256k1PublicKey(pubKey)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadPubKey, err)
	}
	return peer.IDFromPublicKey(pk)
}

// ValidatorPeerID returns the peer id of a genesis validator, checking that its address is the
// one its public key derives.
func ValidatorPeerID(v chain.Validator) (peer.ID, error) {
	id, err := PeerIDOf(v.PubKey)
	if err != nil {
		return "", fmt.Errorf("validator %q: %w", v.Name, err)
	}
	addr, err := AddressOf(id)
	if err != nil {
		return "", fmt.Errorf("validator %q: %w", v.Name, err)
	}
	if addr != v.Address {
		return "", fmt.Errorf("validator %q: %w: key gives %s, genesis says %s", v.Name, ErrAddressMismatch, addr, v.Address)
	}
	return id, nil
}

// AddressOf returns the chain address of the key that names a peer. A secp256k1 peer id
// inlines its public key, so no connection is needed; the id of a connected peer is proven by
// the Noise handshake, which is what makes the address trustworthy.
func AddressOf(id peer.ID) (chain.Address, error) {
	pk, err := id.ExtractPublicKey()
	if err != nil {
		return chain.Address{}, fmt.Errorf("%w: peer %s: %v", ErrNotSecp256k1, id, err)
	}
	return AddressOfKey(pk)
}

// AddressOfKey returns the chain address (keccak of the uncompressed key, Ethereum style) of a
// libp2p secp256k1 public key.
func AddressOfKey(pk crypto.PubKey) (chain.Address, error) {
	secp, ok := pk.(*crypto.Secp256k1PublicKey)
	if !ok {
		return chain.Address{}, ErrNotSecp256k1
	}
	raw, err := secp.Raw() // compressed
	if err != nil {
		return chain.Address{}, fmt.Errorf("%w: %v", ErrBadPubKey, err)
	}
	pub, err := ethcrypto.DecompressPubkey(raw)
	if err != nil {
		return chain.Address{}, fmt.Errorf("%w: %v", ErrBadPubKey, err)
	}
	return ethcrypto.PubkeyToAddress(*pub), nil
}

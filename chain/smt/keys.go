package smt

import "crypto/sha256"

// HashKey is the path of a record in the tree: sha256(key). Callers use it, not their own
// hash, so the tree and its verifiers agree on one definition.
func HashKey(key []byte) [32]byte { return sha256.Sum256(key) }

// HashValue is the value hash a leaf commits to: sha256(value).
func HashValue(value []byte) [32]byte { return sha256.Sum256(value) }

package proof_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/loyal-ledger/loyal/audit/internal/testchain"
	"github.com/loyal-ledger/loyal/audit/proof"
	"github.com/loyal-ledger/loyal/chain"
)

// A bundle of a chain whose validator set changed carries each change up to its height (ADR
// 0003): the header that commits to the new set, certified by the old one, and the new set.
// The check follows them from genesis's validators; a change left out, reordered, naming
// another set, or certified by anyone but the set before it fails the bundle.
func TestBundlesFollowValidatorChanges(t *testing.T) {
	c := testchain.Build(t, testchain.Options{Blocks: 2, ValidatorChanges: true})
	raw := exportOf(t, c)
	acts := c.Ledger.Activations()
	if len(acts) != 3 {
		t.Fatalf("%d activations", len(acts))
	}
	// An account after the last change, and a transaction between the first two.
	acct := mustBuild(t, raw, proof.Request{Account: testchain.Addr(c.Keys["c0"]), Program: "ACME"})
	if len(acct.SetChanges) != 3 {
		t.Fatalf("the account bundle carries %d set changes, want 3", len(acct.SetChanges))
	}
	for i, sc := range acct.SetChanges {
		if sc.Header.Height+1 != acts[i].Height || chain.ValidatorSetHash(sc.Validators) != chain.ValidatorSetHash(acts[i].Rules.Validators) {
			t.Fatalf("set change %d at %d, the ledger's activation at %d", i, sc.Header.Height, acts[i].Height)
		}
	}
	f, err := proof.Check(clone(t, acct), c.Genesis)
	if err != nil {
		t.Fatal(err)
	}
	if f.Certified.Validators != 4 || slices.ContainsFunc(f.Certified.Signers, func(s proof.Signer) bool { return s.Address == testchain.Addr(testchain.Key(t, "validator 0")) }) {
		t.Fatalf("certified by %d validators, signers %+v: want the last set, without validator 0", f.Certified.Validators, f.Certified.Signers)
	}
	// At the block whose header commits to the first new set, that change is the bundle's
	// own: it carries it with the bundle's certificate.
	atChange := mustBuild(t, raw, proof.Request{Account: testchain.Addr(c.Keys["c0"]), Height: acts[0].Height - 1})
	if len(atChange.SetChanges) != 1 || atChange.SetChanges[0].Header != atChange.Header {
		t.Fatalf("the bundle at block %d carries %d changes", acts[0].Height-1, len(atChange.SetChanges))
	}
	if _, err := proof.Check(clone(t, atChange), c.Genesis); err != nil {
		t.Fatal(err)
	}
	var txHash chain.Hash
	for _, b := range c.Blocks {
		if b.Header.Height > acts[0].Height && b.Header.Height < acts[1].Height && len(b.Txs) > 0 {
			txHash = b.Txs[0].Hash()
		}
	}
	tx := mustBuild(t, raw, proof.Request{Tx: txHash})
	if len(tx.SetChanges) != 1 {
		t.Fatalf("the bundle of a transaction between the first two changes carries %d changes, want 1", len(tx.SetChanges))
	}
	if f, err := proof.Check(clone(t, tx), c.Genesis); err != nil || f.Certified.Validators != 5 {
		t.Fatalf("check: %+v, %v; want a certificate of the five", f, err)
	}

	cases := []struct {
		name string
		edit func(b *proof.Bundle)
		want error
	}{
		{"the rotation left out", func(b *proof.Bundle) { b.SetChanges = append(b.SetChanges[:1], b.SetChanges[2:]...) }, proof.ErrNotCertified},
		{"every change left out", func(b *proof.Bundle) { b.SetChanges = nil }, proof.ErrNotCertified},
		// The four validators left after the removal sign the header: a quorum of the five
		// before it too, in the same order. Left out, the removal leaves a stale set the
		// certificate passes; the header's commitment to the next set does not.
		{"the removal left out, the header signed by all four", func(b *proof.Bundle) {
			b.SetChanges = b.SetChanges[:2]
			b.Certificate = certify(t, c.Genesis.ChainID, &b.Header, 0, testchain.Key(t, "validator 5"), testchain.Key(t, "validator 2"), testchain.Key(t, "validator 3"), testchain.Key(t, "validator 4"))
		}, proof.ErrBadBundle},
		{"two changes swapped", func(b *proof.Bundle) { b.SetChanges[0], b.SetChanges[1] = b.SetChanges[1], b.SetChanges[0] }, proof.ErrBadBundle},
		{"a change naming another set", func(b *proof.Bundle) { b.SetChanges[1].Validators = b.SetChanges[0].Validators }, proof.ErrBadBundle},
		{"a change's set cut short", func(b *proof.Bundle) { b.SetChanges[2].Validators = b.SetChanges[2].Validators[:3] }, proof.ErrBadBundle},
		{"a change's certificate by too few", func(b *proof.Bundle) { b.SetChanges[0].Certificate.Sigs = b.SetChanges[0].Certificate.Sigs[:2] }, proof.ErrNotCertified},
		{"a change's header altered", func(b *proof.Bundle) { b.SetChanges[0].Header.Time++ }, proof.ErrNotCertified},
		{"a change above the proven block", func(b *proof.Bundle) { b.SetChanges[2].Header.Height = b.Header.Height + 1 }, proof.ErrBadBundle},
		{"a change of another chain", func(b *proof.Bundle) { b.SetChanges[0].Header.ChainID++ }, proof.ErrWrongNetwork},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := clone(t, acct)
			tc.edit(b)
			if _, err := proof.Check(b, c.Genesis); !errors.Is(err, tc.want) {
				t.Fatalf("check: %v, want %v", err, tc.want)
			}
		})
	}
}

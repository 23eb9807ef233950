package chain

import (
	"os"
	"testing"
)

// The registry is the one place the generic code learns about kinds, so a wrong line there
// would decode one kind's bytes into another's struct: check each line against its payload.
func TestKindRegistry(t *testing.T) {
	if len(Kinds) == 0 {
		t.Fatal("no kinds registered")
	}
	names := map[string]Kind{}
	primaries := map[string]Kind{}
	for _, k := range Kinds {
		info := kinds[k]
		if got := info.new().Kind(); got != k {
			t.Errorf("registry line %d builds a payload of kind %d", k, got)
		}
		if got := info.null.Kind(); got != k || !isNilPayload(info.null) || isNilPayload(info.new()) {
			t.Errorf("registry line %d: nil payload of kind %d", k, got)
		}
		if prev, dup := names[info.name]; dup {
			t.Errorf("kinds %d and %d are both named %q", prev, k, info.name)
		}
		names[info.name] = k
		if prev, dup := primaries[info.primary]; dup {
			t.Errorf("kinds %d and %d share the primary type %q", prev, k, info.primary)
		}
		primaries[info.primary] = k
		if back, err := ParseKind(k.String()); err != nil || back != k {
			t.Errorf("kind %d: ParseKind(%q) = %d, %v", k, k.String(), back, err)
		}
		// The layout of docs/adr/0004-transaction-kinds.md.
		for _, f := range []string{"kind_" + info.name + ".go", "apply_" + info.name + ".go"} {
			if _, err := os.Stat(f); err != nil {
				t.Errorf("kind %s: %v", k, err)
			}
		}
	}
	for i := range kinds {
		if k := Kind(i); kinds[k].new == nil && (newPayload(k) != nil || PrimaryType(k) != "") {
			t.Errorf("unregistered number %d yields a payload or a primary type", k)
		}
	}
}

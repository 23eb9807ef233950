package node_test

import (
	"errors"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loyal-ledger/loyal/node"
)

// The API's connection cap and write rate have working defaults, take their values from
// config.toml, and refuse values that make no sense.
func TestAPIConfigLimits(t *testing.T) {
	d := node.DefaultConfig()
	if d.API.MaxConns <= 0 || d.API.WriteRate <= 0 || d.API.WriteBurst < 1 {
		t.Fatalf("defaults %+v: want a connection cap and a write rate", d.API)
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		spoil func(c *node.Config)
		want  string
	}{
		{"negative max_conns", func(c *node.Config) { c.API.MaxConns = -1 }, "api.max_conns"},
		{"negative write_rate", func(c *node.Config) { c.API.WriteRate = -1 }, "api.write_rate"},
		{"NaN write_rate", func(c *node.Config) { c.API.WriteRate = math.NaN() }, "api.write_rate"},
		{"no burst", func(c *node.Config) { c.API.WriteBurst = 0 }, "api.write_burst"},
	} {
		c := node.DefaultConfig()
		tc.spoil(&c)
		if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %s", tc.name, err, tc.want)
		}
	}
	off := node.DefaultConfig()
	off.API.MaxConns, off.API.WriteRate, off.API.WriteBurst = 0, 0, 0
	if err := off.Validate(); err != nil {
		t.Errorf("0 turns the cap and the limit off, yet: %v", err)
	}

	// A home's config.toml carries them; one written before they existed gets the defaults.
	home := initHome(t, testKey(t, "owner"), "pebble")
	raw, err := os.ReadFile(filepath.Join(home, node.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"max_conns = 1024", "write_rate = 10.0", "write_burst = 20"} {
		if !strings.Contains(string(raw), key) {
			t.Errorf("config.toml lacks %q:\n%s", key, raw)
		}
	}
	var old []string
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "max_conns") && !strings.HasPrefix(strings.TrimSpace(line), "write_") {
			old = append(old, line)
		}
	}
	if err := os.WriteFile(filepath.Join(home, node.ConfigFile), []byte(strings.Join(old, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := node.LoadConfig(home)
	if err != nil || cfg.API.MaxConns != d.API.MaxConns || cfg.API.WriteRate != d.API.WriteRate || cfg.API.WriteBurst != d.API.WriteBurst {
		t.Fatalf("old config: %+v %v", cfg.API, err)
	}
}

// On a running node: a wrong method is 405 with Allow, an unknown program 404, a body with a
// key written twice 400 malformed.
func TestAPIMethodsAndUnknownResources(t *testing.T) {
	r := start(t, initHome(t, testKey(t, "owner"), "pebble"))
	req, _ := http.NewRequest("DELETE", r.url+"/v1/status", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("DELETE /v1/status: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	if status, e := call(t, "GET", r.url+"/v1/programs/NOPE", "", nil, nil); status != 404 || e.Code != "not_found" {
		t.Errorf("unknown program: %d %+v", status, e)
	}
	body := []byte(`{"kind":"transfer","kind":"transfer"}`)
	if status, e := call(t, "POST", r.url+"/v1/txs", "", body, nil); status != 400 || e.Code != "malformed" {
		t.Errorf("duplicate key: %d %+v", status, e)
	}
}

// LocalURL reaches the API from this machine: an unspecified host is loopback; port 0 has no
// URL.
func TestAPILocalURL(t *testing.T) {
	for _, tc := range []struct{ listen, want string }{
		{"127.0.0.1:8645", "http://127.0.0.1:8645"},
		{"0.0.0.0:8645", "http://127.0.0.1:8645"},
		{":8645", "http://127.0.0.1:8645"},
		{"[::]:8645", "http://[::1]:8645"},
		{"10.1.2.3:9000", "http://10.1.2.3:9000"},
		{"node.internal:9000", "http://node.internal:9000"},
	} {
		got, err := node.APIConfig{Listen: tc.listen}.LocalURL()
		if err != nil || got != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.listen, got, err, tc.want)
		}
	}
	for _, listen := range []string{"127.0.0.1:0", "8645"} {
		if got, err := (node.APIConfig{Listen: listen}).LocalURL(); !errors.Is(err, node.ErrBadConfig) {
			t.Errorf("%s: %q, %v; want ErrBadConfig", listen, got, err)
		}
	}
}

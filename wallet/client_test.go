package wallet

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestAPIErrorDecoding checks only how non-2xx answers become *APIError: the server below
// answers every request with a fixed status and body.
func TestAPIErrorDecoding(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   APIError
		text   string
	}{
		{"error body", http.StatusUnprocessableEntity, `{"error":{"code":"insufficient_points","message":"insufficient available points"}}`,
			APIError{Status: 422, Code: "insufficient_points", Message: "insufficient available points"}, "insufficient_points: insufficient available points"},
		{"not found", http.StatusNotFound, `{"error":{"code":"not_found","message":"unknown transaction"}}` + "\n",
			APIError{Status: 404, Code: "not_found", Message: "unknown transaction"}, "not_found: unknown transaction"},
		{"a proxy's page", http.StatusBadGateway, "<html>bad\tgateway\x1b[0m</html>\nmore",
			APIError{Status: 502, Code: "http_502", Message: "Bad Gateway: <html>badgateway[0m</html>"}, "http_502: Bad Gateway: <html>badgateway[0m</html>"},
		{"empty body", http.StatusServiceUnavailable, "",
			APIError{Status: 503, Code: "http_503", Message: "Service Unavailable"}, "http_503: Service Unavailable"},
		{"json without a code", http.StatusBadRequest, `{"message":"x"}`,
			APIError{Status: 400, Code: "http_400", Message: `Bad Request: {"message":"x"}`}, `http_400: Bad Request: {"message":"x"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c := &Client{BaseURL: srv.URL + "/"}
			_, err := c.Status(context.Background())
			var apiErr *APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v (%T), want *APIError", err, err)
			}
			if *apiErr != tt.want {
				t.Errorf("APIError = %+v, want %+v", *apiErr, tt.want)
			}
			if err.Error() != tt.text {
				t.Errorf("Error() = %q, want %q", err.Error(), tt.text)
			}
		})
	}
}

// Blocks checks that a node's page answers the range asked for, and refuses one that does
// not: EachBlock relies on it to make progress and to miss no block.
func TestBlocksRefusesAPageThatDoesNotFit(t *testing.T) {
	page := func(height, next string, heights ...int) string {
		var blocks []string
		for _, h := range heights {
			blocks = append(blocks, fmt.Sprintf(`{"block":{"header":{"height":"%d"}}}`, h))
		}
		return fmt.Sprintf(`{"height":%q,"next":%q,"blocks":[%s]}`, height, next, strings.Join(blocks, ","))
	}
	tests := []struct {
		name     string
		from, to uint64
		body     string
		ok       bool
	}{
		{"a page", 2, 0, page("9", "4", 2, 3), true},
		{"the last page", 2, 3, page("9", "0", 2, 3), true},
		{"up to the head", 2, 0, page("3", "0", 2, 3), true},
		{"empty", 2, 0, page("9", "0"), false},
		{"starts elsewhere", 2, 0, page("9", "0", 3), false},
		{"skips a height", 2, 0, page("9", "0", 2, 4), false},
		{"repeats a height", 2, 0, page("9", "0", 2, 2), false},
		{"goes down", 2, 0, page("9", "0", 2, 1), false},
		{"past to", 2, 3, page("9", "0", 2, 3, 4), false},
		{"past the head", 2, 0, page("3", "0", 2, 3, 4), false},
		{"next skips", 2, 0, page("9", "5", 2, 3), false},
		{"next goes back", 2, 0, page("9", "2", 2, 3), false},
		{"next past to", 2, 3, page("9", "4", 2, 3), false},
		{"next past the head", 2, 0, page("3", "4", 2, 3), false},
		{"no block", 2, 0, `{"height":"9","blocks":[null]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c := &Client{BaseURL: srv.URL}
			_, err := c.Blocks(context.Background(), tt.from, tt.to)
			if tt.ok && err != nil || !tt.ok && !errors.Is(err, ErrBadAnswer) {
				t.Errorf("Blocks(%d, %d) of %s: %v", tt.from, tt.to, tt.body, err)
			}
		})
	}
}

// AccountProof names a program only when asked to: the proof is of the whole account.
func TestAccountProofQuery(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.RawQuery)
		_, _ = w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c := &Client{BaseURL: srv.URL}
	for _, program := range []string{"", "ACME"} {
		if _, err := c.AccountProof(context.Background(), [20]byte{1}, program); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 2 || got[0] != "" || got[1] != "program=ACME" {
		t.Fatalf("queries %q, want none, then program=ACME", got)
	}
}

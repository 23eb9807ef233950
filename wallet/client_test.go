package wallet

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
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

package report_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/loyal-ledger/loyal/audit/report"
	"github.com/loyal-ledger/loyal/chain"
)

// The JSON and CSV forms carry the same figures under the same names: JSON reads back to the
// same report, every CSV column of a program or a settlement position is the JSON field of
// that name (after the period's columns), and an undefined rate is null in JSON and an empty
// cell in CSV.
func TestFormats(t *testing.T) {
	f := build(t)
	end := chain.DayOf(f.m.heights[len(f.m.heights)-1].time)
	rep, err := f.run(t, report.Options{Monthly: true})
	if err != nil {
		t.Fatal(err)
	}
	after, err := f.run(t, report.Options{From: end + 1, To: end + 1}) // no points enter: rates undefined
	if err != nil {
		t.Fatal(err)
	}
	rep.Statements = append(rep.Statements, after.Statements...)

	raw, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back report.Report
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(&back)
	if !bytes.Equal(raw, again) {
		t.Fatalf("JSON does not read back:\n%s\n%s", raw, again)
	}
	var generic struct {
		Statements []struct {
			Programs   []map[string]any `json:"programs"`
			Settlement []map[string]any `json:"settlement"`
		} `json:"statements"`
	}
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatal(err)
	}
	if p := generic.Statements[len(generic.Statements)-1].Programs[0]; p["redemption_rate_bps"] != nil || p["breakage_rate_bps"] != nil {
		t.Fatalf("undefined rates in JSON: %v", p)
	}

	check := func(name string, write func(*report.Report, *bytes.Buffer) error, rowsOf func(i int) []map[string]any) {
		var buf bytes.Buffer
		if err := write(rep, &buf); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatalf("%s CSV: %v", name, err)
		}
		header, rows := rows[0], rows[1:]
		n := 0
		for i, st := range rep.Statements {
			for _, obj := range rowsOf(i) {
				row := rows[n]
				n++
				if row[0] != st.FromDate.String() || row[3] != u64s(st.ToHeight) {
					t.Fatalf("%s CSV row %d: period %v, statement %+v", name, n, row[:5], st)
				}
				for c, col := range header[5:] {
					want, ok := obj[col]
					if !ok && col != "payments" {
						t.Fatalf("%s CSV column %q is no JSON field (%v)", name, col, slices.Sorted(maps.Keys(obj)))
					}
					switch w := want.(type) {
					case nil:
						want = ""
					case []any:
						want = u64s(uint64(len(w)))
					}
					if got := row[5+c]; !strings.EqualFold(got, want.(string)) {
						t.Fatalf("%s CSV row %d column %s: %q, JSON %q", name, n, col, got, want)
					}
				}
				if len(header)-5 != len(obj) {
					t.Fatalf("%s CSV has %d figure columns, JSON %d fields", name, len(header)-5, len(obj))
				}
			}
		}
		if n != len(rows) {
			t.Fatalf("%s CSV: %d rows, %d in JSON", name, len(rows), n)
		}
	}
	check("programs", func(r *report.Report, b *bytes.Buffer) error { return r.WriteProgramsCSV(b) },
		func(i int) []map[string]any { return generic.Statements[i].Programs })
	check("settlement", func(r *report.Report, b *bytes.Buffer) error { return r.WriteSettlementCSV(b) },
		func(i int) []map[string]any { return generic.Statements[i].Settlement })

	var buf bytes.Buffer
	if err := rep.WritePaymentsCSV(&buf); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var payments int
	for _, st := range rep.Statements {
		for _, p := range st.Settlement {
			payments += len(p.Payments)
		}
	}
	if len(rows)-1 != payments || payments == 0 || strings.Join(rows[0][5:], ",") != "debtor,creditor,height,time,tx,amount" {
		t.Fatalf("payments CSV: %d rows for %d payments; header %v", len(rows)-1, payments, rows[0])
	}
}

func u64s(v uint64) string {
	b, _ := json.Marshal(v)
	return string(b)
}

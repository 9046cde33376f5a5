package csvreport

import (
	"bytes"
	"encoding/csv"
	"io"
	"runtime"
	"testing"
)

const benchRows = 100_000

// BenchmarkReader measures parse + validate; BenchmarkBareCSV runs
// encoding/csv alone on the same bytes, so the ratio is the cost of the rows'
// validation.
func BenchmarkReader(b *testing.B) {
	for _, full := range []bool{false, true} {
		name := map[bool]string{false: "3cols", true: "7cols"}[full]
		data := genBytes(benchRows, full)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				r, err := NewReader(bytes.NewReader(data), Options{})
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for {
					row, err := r.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					if len(row.Errors) > 0 {
						b.Fatalf("line %d: %v", row.Line, row.Errors)
					}
					n++
				}
				if n != benchRows {
					b.Fatalf("%d rows, want %d", n, benchRows)
				}
			}
			b.ReportMetric(float64(b.N)*benchRows/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func BenchmarkBareCSV(b *testing.B) {
	for _, full := range []bool{false, true} {
		name := map[bool]string{false: "3cols", true: "7cols"}[full]
		data := genBytes(benchRows, full)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				cr := csv.NewReader(bytes.NewReader(data))
				cr.ReuseRecord = true
				cr.FieldsPerRecord = -1
				n := 0
				for {
					_, err := cr.Read()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					n++
				}
				if n != benchRows+1 {
					b.Fatalf("%d records", n)
				}
			}
			b.ReportMetric(float64(b.N)*benchRows/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// TestMemoryFlat reads a generated stream far larger than the bound it
// asserts: the heap must not grow with the file.
func TestMemoryFlat(t *testing.T) {
	const rows = 300_000
	g := newGen(rows, true)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	r, err := NewReader(g, Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(row.Errors) > 0 {
			t.Fatalf("line %d: %v", row.Line, row.Errors)
		}
		n++
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(r)
	if n != rows {
		t.Fatalf("%d rows, want %d", n, rows)
	}
	read := g.i // rows generated, i.e. bytes streamed through
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d rows streamed; heap %d → %d bytes (growth %d); %d mallocs, %d bytes allocated in total",
		read, before.HeapAlloc, after.HeapAlloc, growth, after.Mallocs-before.Mallocs, after.TotalAlloc-before.TotalAlloc)
	if growth > 2<<20 {
		t.Errorf("heap grew by %d bytes over %d rows: the reader keeps what it read", growth, rows)
	}
}

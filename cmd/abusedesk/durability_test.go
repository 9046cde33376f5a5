package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"abusedesk/internal/store"
)

// TestKill9LosesNoAcknowledgedReport runs the real binary, posts reports
// from many clients, kills the server with SIGKILL in mid-stream, and checks
// that every report answered 201 is in the database.
func TestKill9LosesNoAcknowledgedReport(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the kill -9 test (builds and runs the binary)")
	}
	bin := binary(t)
	eachDB(t, "abusedesk_kill", func(t *testing.T, db string) { kill9(t, bin, db) })
}

func kill9(t *testing.T, bin, db string) {
	url, cmd := startServe(t, bin, db)
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 10 * time.Second}
	for c := 0; c < 16; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				body := fmt.Sprintf(`{"type":"network","subtype":"ddos","reporter":{"name":"K","email":"k%d@example.org"},"incidents":[{"source_ip":"203.0.113.%d","target":"198.51.100.1","timestamp":"2026-03-02T10:00:00Z","log":"flood %d"}]}`, c, i%250, i)
				resp, err := client.Post(url+"/api/v1/reports", "application/json", strings.NewReader(body))
				if err != nil {
					return // the server is gone
				}
				var m struct{ ID string }
				json.NewDecoder(resp.Body).Decode(&m)
				resp.Body.Close()
				if resp.StatusCode == 201 {
					mu.Lock()
					acked = append(acked, m.ID)
					mu.Unlock()
				}
			}
		}()
	}
	// Kill in full flow, once a few hundred reports were acknowledged.
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		n := len(acked)
		mu.Unlock()
		if n >= 500 || time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	wg.Wait()
	st, err := store.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	missing := 0
	for _, id := range acked {
		if _, err := st.ReportByPublicID(context.Background(), id); err != nil {
			missing++
			if missing < 5 {
				t.Errorf("acknowledged report %s lost after kill -9: %v", id, err)
			}
		}
	}
	stored, _, _ := st.Counts(context.Background())
	t.Logf("%d reports acknowledged before kill -9, %d stored, %d acknowledged ones missing", len(acked), stored, missing)
	if len(acked) == 0 {
		t.Fatal("no report was acknowledged: the test proved nothing")
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

// TestKill9LosesNoAcknowledgedReport runs the real binary, posts reports
// from many clients, kills the server with SIGKILL in mid-stream, and checks
// that every report answered 201 is in the database.
func TestKill9LosesNoAcknowledgedReport(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the kill -9 test (builds and runs the binary)")
	}
	bin := binary(t)
	t.Run("sqlite", func(t *testing.T) {
		kill9(t, bin, filepath.Join(t.TempDir(), "k.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		admin := os.Getenv(storetest.EnvPostgres)
		if admin == "" {
			t.Skipf("PostgreSQL run disabled: set %s to enable it", storetest.EnvPostgres)
		}
		dsn, drop, err := store.CreateScratchDatabase(context.Background(), admin, "abusedesk_kill")
		if err != nil {
			t.Fatal(err)
		}
		defer drop()
		kill9(t, bin, dsn)
	})
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func kill9(t *testing.T, bin, db string) {
	addr := freePort(t)
	cmd := exec.Command(bin, "serve", "--addr", addr, "--db", db, "--no-rate-limit")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	url := "http://" + addr
	for i := 0; ; i++ {
		if resp, err := http.Get(url + "/healthz"); err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		if i > 200 {
			t.Fatal("server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
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

package main

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

// Helpers of the tests that run the real binary.

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// binary builds abusedesk once per test run.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "abusedesk-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "abusedesk")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			binErr = err
			t.Logf("go build: %s", out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// eachDB runs fn on a fresh SQLite file, then on a scratch PostgreSQL
// database named after prefix when storetest.EnvPostgres is set (otherwise
// that run skips and says why).
func eachDB(t *testing.T, prefix string, fn func(t *testing.T, db string)) {
	t.Run("sqlite", func(t *testing.T) {
		fn(t, filepath.Join(t.TempDir(), "test.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		admin := os.Getenv(storetest.EnvPostgres)
		if admin == "" {
			t.Skipf("PostgreSQL run disabled: set %s to enable it", storetest.EnvPostgres)
		}
		dsn, drop, err := store.CreateScratchDatabase(context.Background(), admin, prefix)
		if err != nil {
			t.Fatal(err)
		}
		defer drop()
		fn(t, dsn)
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

// startServe runs abusedesk serve on db (rate limits off) until the test
// ends, and returns its base URL once /healthz answers.
func startServe(t *testing.T, bin, db string, extra ...string) (string, *exec.Cmd) {
	t.Helper()
	addr := freePort(t)
	cmd := exec.Command(bin, append([]string{"serve", "--addr", addr, "--db", db, "--no-rate-limit"}, extra...)...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := "http://" + addr
	for i := 0; ; i++ {
		if resp, err := http.Get(url + "/healthz"); err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			return url, cmd
		}
		if i > 600 { // 30 s: CI machines are shared and slow at times
			t.Fatal("server did not start within 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

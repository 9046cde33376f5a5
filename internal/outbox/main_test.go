package outbox_test

import (
	"log/slog"
	"os"
	"testing"
)

// TestMain quiets River's migration messages (jobs.Migrate logs to the
// default logger), which would otherwise interleave with benchmark lines.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	os.Exit(m.Run())
}

package daemon

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fluxhunt/fluxhunt/config"
)

func testConfig(t *testing.T, allowFile string) *config.Config {
	t.Helper()
	res, err := config.Load(config.Options{Overrides: map[string]string{
		"splunk.search.url": "http://127.0.0.1:1", "splunk.search.token": "t",
		"splunk.hec.urls": "http://127.0.0.1:2", "splunk.hec.token": "h",
		"state_dir": t.TempDir(), "listen": "", "allowlist_file": allowFile,
	}})
	if err != nil {
		t.Fatal(err)
	}
	return &res.Config
}

// SIGHUP's Reload re-reads the allowlist file; bad lines are reported by
// file:line and the good ones kept.
func TestReloadAllowlist(t *testing.T) {
	file := filepath.Join(t.TempDir(), "allow.txt")
	os.WriteFile(file, []byte("zen.spamhaus.org\n"), 0o600)
	d, err := New(Options{Config: testConfig(t, file)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if !d.currentAllow().MatchName("2.0.0.127.zen.spamhaus.org") || d.currentAllow().MatchHost("10.9.9.9") {
		t.Fatal("initial allowlist not applied")
	}
	os.WriteFile(file, []byte("zen.spamhaus.org\nhost 10.9.9.9\nhost not/a/net/\n"), 0o600)
	err = d.Reload()
	if err == nil || !strings.Contains(err.Error(), file+":3") {
		t.Errorf("reload error = %v, want one naming %s:3", err, file)
	}
	if !d.currentAllow().MatchHost("10.9.9.9") {
		t.Error("reloaded host entry not applied")
	}
	// The analyst lookup merges with the file.
	d.mu.Lock()
	d.lookupAllow = "suffix analyst.example\n"
	d.allow = nil
	d.mu.Unlock()
	if !d.currentAllow().MatchName("x.analyst.example") || !d.currentAllow().MatchName("zen.spamhaus.org") {
		t.Error("lookup and file entries must both apply")
	}
}

// New refuses a second daemon on the same state_dir instead of hanging.
func TestStateDirLocked(t *testing.T) {
	cfg := testConfig(t, "")
	d, err := New(Options{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := New(Options{Config: cfg}); err == nil || !strings.Contains(err.Error(), "another fluxhunt") {
		t.Errorf("second daemon on one state_dir: %v", err)
	}
}

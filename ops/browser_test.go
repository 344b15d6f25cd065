package ops_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// findBrowser returns the path of a Chromium or Chrome on PATH. Without one
// the browser tests are skipped, except under CI=true, where they fail.
func findBrowser(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const msg = "no headless browser found: install Debian's chromium package (apt-get install -y chromium) or put chromium-browser or google-chrome on PATH"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// TestBrowser drives the pages in headless Chromium: the overview, an
// order with a dead letter, the replay of that dead letter through its form
// (CSRF token and an authenticated principal), and the pages after it.
func TestBrowser(t *testing.T) {
	exe := findBrowser(t)
	w := newWorld(t)
	srv := w.server(t, w.config(headerAuth))
	d := w.deadLetter(t)
	id := strconv.FormatInt(d.ID, 10)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox,
		chromedp.Headless, chromedp.DisableGPU, chromedp.WindowSize(412, 915), chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()
	ctx, cancel := context.WithTimeout(bctx, 90*time.Second)
	defer cancel()

	// text reads the text of the element sel selects.
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		require.NoError(t, err, "text of %s", sel)
		return strings.TrimSpace(v)
	}
	// The operator is authenticated by the header a proxy in front of the
	// service would set.
	_, err := chromedp.Call(ctx, network.Enable, network.EnableParams{})
	require.NoError(t, err, "Network.enable")
	_, err = chromedp.Call(ctx, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"X-Operator": "alice"}})
	require.NoError(t, err, "Network.setExtraHTTPHeaders")
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")), "load the overview")
	assert.Equal(t, "1 dead", text("#dead-count"), "overview")

	// Open the order through the overview's form, then its dead letter.
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`input[name="id"]`), w.refused),
		chromedp.Submit(chromedp.CSS(`input[name="id"]`)),
		chromedp.WaitVisible(chromedp.ID("order-status")),
	), "open order %s", w.refused)
	assert.Equal(t, "Order "+w.refused, text("h1"))
	assert.Equal(t, "accepted/unfulfilled/not_invoiced", text("#order-status"), "status of %s before the replay", w.refused)

	// The warehouse fixed the address: replay the dead letter.
	w.gate.setRefuse(w.refused, false)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`a[href="/deadletters/`+id+`"]`)),
		chromedp.WaitVisible(chromedp.ID("dl-state")),
	), "open dead letter %s", id)
	require.Equal(t, "dead", text("#dl-state"), "dead letter %s before the replay", id)
	require.NoError(t, chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`form[action$="/replay"] input[name="why"]`), "ship-to address fixed"),
		chromedp.Click(chromedp.ID("replay-"+id)),
		chromedp.WaitVisible(chromedp.CSS(".notice")),
	), "replay dead letter %s", id)
	assert.Contains(t, text(".notice"), "Replay requested for 1 dead letter")
	assert.Equal(t, "replaying", text("#dl-state"), "dead letter %s after the replay", id)
	got, err := w.log.Get(context.Background(), d.ID)
	require.NoError(t, err)
	last := got.Audit[len(got.Audit)-1]
	assert.Equal(t, [3]string{"replay", "alice", "ship-to address fixed"}, [3]string{last.Action, last.By, last.Why}, "audit")

	// The flow handles the replay; the order's page shows it shipped and
	// invoiced, and the dead letter resolved.
	w.settle(t)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/orders/"+w.refused)), "reload order %s", w.refused)
	assert.Equal(t, "accepted/shipped/invoiced", text("#order-status"), "status of %s after the replay", w.refused)
	assert.Contains(t, text("main"), "resolved", "the order's dead letter")
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	require.NoError(t, err, "screenshot")
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/deadletters/"+id)), "dead letter %s", id)
	assert.Equal(t, "resolved", text("#dl-state"), "dead letter %s after the flow handled it", id)
	assert.Contains(t, text("ol.audit"), "replay by alice: ship-to address fixed", "audit trail")
	path := filepath.Join(t.TempDir(), "order.png")
	require.NoError(t, os.WriteFile(path, shot, 0o600), "screenshot")
	require.Greater(t, len(shot), 1000, "screenshot size")
	t.Logf("screenshot of order %s: %s (%d bytes)", w.refused, path, len(shot))
}

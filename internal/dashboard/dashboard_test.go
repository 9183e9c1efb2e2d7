package dashboard_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	rbacv1 "k8s.io/api/rbac/v1"

	"ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/app"
	"ferry.dev/ferry/internal/dashboard"
	"ferry.dev/ferry/internal/devcluster/devclustertest"
	"ferry.dev/ferry/internal/kube"
	"ferry.dev/ferry/internal/release"
)

// deployTwice records two revisions of the shop app with real deploys.
func (e *env) deployTwice(t *testing.T) {
	t.Helper()
	kc, err := kube.NewForConfig(e.rest)
	if err != nil {
		t.Fatal(err)
	}
	def, err := app.Load(filepath.Join("testdata", "app", "ferry.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	def.Namespace = e.ns
	cfg := release.Config{Client: kc, Def: def, User: "alice"}
	for _, image := range []string{"shop/web:1.0.0", "shop/web:1.1.0"} {
		if _, err := release.Deploy(context.Background(), cfg, release.DeployOptions{Image: image}); err != nil {
			t.Fatalf("deploy %s: %v", image, err)
		}
	}
}

func TestPagesShowAppsRevisionsAndMigrations(t *testing.T) {
	e := newEnv(t)
	e.deployTwice(t)
	p := traffic(t)
	e.migration(t, "checkout", p, time.Hour)
	token := e.account(t, "operator", operatorRules)
	b := newBrowser(t)
	b.login(t, e.url, token)
	b.noErrors(t, "login")

	t.Run("apps", func(t *testing.T) {
		b.run(t, 20*time.Second,
			chromedp.Navigate(e.url+"/"),
			chromedp.WaitVisible(chromedp.CSS(`a[href="/apps/`+e.ns+`/shop"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#apps .health.ok`)), // the health check lands live
		)
		b.screenshot(t, "apps")
		b.noErrors(t, "apps page")
	})
	t.Run("app", func(t *testing.T) {
		b.run(t, 20*time.Second,
			chromedp.Navigate(e.url+"/apps/"+e.ns+"/shop"),
			chromedp.WaitVisible(chromedp.CSS(`tr[data-revision="1"]`)),
			chromedp.WaitVisible(chromedp.CSS(`tr[data-revision="2"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#diff details.changed`)),
		)
		html, err := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.ID("main")))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"shop/web:1.0.0", "shop/web:1.1.0", "- ", "+ ", "alice"} {
			if !strings.Contains(html, want) {
				t.Errorf("the app page does not show %q", want)
			}
		}
		if !strings.Contains(html, "image: shop/web:1.1.0") || !strings.Contains(html, "image: shop/web:1.0.0") {
			t.Error("the diff does not show the image change line by line")
		}
		if strings.Contains(html, "never-on-the-page") {
			t.Error("the page shows a Secret's value")
		}
		if !strings.Contains(html, "DATABASE_PASSWORD") {
			t.Error("the page does not show the Secret's keys")
		}
		b.screenshot(t, "app")
		b.noErrors(t, "app page")
	})
	t.Run("migrations", func(t *testing.T) {
		b.run(t, 20*time.Second,
			chromedp.Navigate(e.url+"/migrations"),
			chromedp.WaitVisible(chromedp.CSS(`a[href="/migrations/`+e.ns+`/checkout"]`)),
		)
		b.noErrors(t, "migrations page")
	})
	t.Run("migration", func(t *testing.T) {
		b.run(t, 60*time.Second,
			chromedp.Navigate(e.url+"/migrations/"+e.ns+"/checkout"),
			chromedp.WaitVisible(chromedp.CSS(`#step[data-step="1/4"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#charts path.line.kubernetes`)), // samples came in live
			chromedp.WaitVisible(chromedp.CSS(`#gates .badge`)),
		)
		b.screenshot(t, "migration")
		b.noErrors(t, "migration page")
	})
}

func TestStepChangeAppearsWithoutReload(t *testing.T) {
	e := newEnv(t)
	p := traffic(t)
	token := e.account(t, "operator", operatorRules)
	b := newBrowser(t)
	b.login(t, e.url, token)

	// The test's own watch stamps when each step is recorded.
	var mu sync.Mutex
	recorded := map[string]time.Time{}
	watching := make(chan struct{})
	watchDone := make(chan error, 1)
	go func() {
		first := true
		ctx, cancel := context.WithTimeout(context.Background(), devclustertest.Patience(t, 3*time.Minute))
		defer cancel()
		watchDone <- e.watch(ctx, "shop", func(m *v1alpha1.Migration) bool {
			if first {
				first = false
				close(watching)
			}
			mu.Lock()
			defer mu.Unlock()
			if _, seen := recorded[m.Status.StepDisplay]; !seen {
				recorded[m.Status.StepDisplay] = time.Now()
			}
			return m.Status.CurrentStep >= 2 || m.Status.Phase == v1alpha1.PhaseAborted
		})
	}()
	e.migration(t, "shop", p, time.Second)
	<-watching
	b.run(t, 30*time.Second,
		chromedp.Navigate(e.url+"/migrations/"+e.ns+"/shop"),
		chromedp.WaitVisible(chromedp.CSS(`#step[data-step="1/4"]`)),
		// Stamp the moment the page shows each step, from the DOM's own changes.
		evaluate(`window.__seen = {};
			new MutationObserver(function () {
				var s = document.getElementById("step");
				if (s && !window.__seen[s.dataset.step]) window.__seen[s.dataset.step] = Date.now();
			}).observe(document.getElementById("main"), {subtree: true, childList: true, attributes: true});
			document.addEventListener("ferry:updated", function () { window.__updates = (window.__updates || 0) + 1; });
			true`),
		chromedp.WaitVisible(chromedp.CSS(`#step[data-step="2/4"]`)),
	)
	if err := <-watchDone; err != nil {
		t.Fatal(err)
	}
	shown, err := chromedp.Run(b.ctx, chromedp.Evaluate[int64](`window.__seen["2/4"]`))
	if err != nil {
		t.Fatalf("the page did not stamp step 2/4: %v", err)
	}
	mu.Lock()
	at, ok := recorded["2/4"]
	mu.Unlock()
	if !ok {
		t.Fatal("the test's watch never saw step 2/4")
	}
	lag := time.UnixMilli(shown).Sub(at)
	t.Logf("step 2/4 recorded at %s, on the open page %s later", at.Format(time.StampMilli), lag)
	if lag > 2*time.Second {
		t.Errorf("the step change reached the open page %s after it was recorded, want within 2s", lag)
	}
	b.noErrors(t, "migration page")
}

// steeringOperator starts a Migration "shop" whose first step holds for an hour, once
// it is recorded, and signs an operator in to the dashboard in a browser.
func steeringOperator(t *testing.T) (*env, *browser) {
	t.Helper()
	e := newEnv(t)
	p := traffic(t)
	e.migration(t, "shop", p, time.Hour)
	e.watchMigration(t, "shop", time.Minute, func(m *v1alpha1.Migration) bool { return m.Status.Revision > 0 })
	token := e.account(t, "operator", operatorRules)
	b := newBrowser(t)
	b.login(t, e.url, token)
	return e, b
}

func TestAbortFromThePage(t *testing.T) {
	e, b := steeringOperator(t)
	const reason = "checkout p99 doubled in the EU"
	b.run(t, 30*time.Second,
		chromedp.Navigate(e.url+"/migrations/"+e.ns+"/shop"),
		chromedp.WaitVisible(chromedp.CSS(`#step[data-step="1/4"]`)),
		// Opened in one step in the page: a live update may replace the closed actions
		// region between finding the summary and clicking it (an open one it keeps).
		evaluate(`document.getElementById("abort-open").click(); true`),
		chromedp.WaitVisible(chromedp.CSS(`#actions details[open] #reason`)),
		chromedp.SendKeys(chromedp.ID("reason"), reason),
		chromedp.Click(chromedp.ID("abort")),
		chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
	)
	m := e.watchMigration(t, "shop", time.Minute, func(m *v1alpha1.Migration) bool { return m.Status.Phase == v1alpha1.PhaseAborted })
	if !strings.Contains(m.Status.AbortReason, reason) {
		t.Errorf("aborted with reason %q, want the reason typed: %q", m.Status.AbortReason, reason)
	}
	b.run(t, 10*time.Second, chromedp.WaitVisible(chromedp.CSS(`#phase[data-phase="Aborted"]`)))
	b.noErrors(t, "migration page")
}

func TestPauseResumeAndPromoteFromThePage(t *testing.T) {
	e, b := steeringOperator(t)
	page := e.url + "/migrations/" + e.ns + "/shop"
	// click presses a steering button in one step in the page (a live update may
	// replace the region between finding a button and clicking it) and waits for the
	// page the action lands on.
	click := func(id, notice string) {
		t.Helper()
		b.run(t, 30*time.Second,
			chromedp.Navigate(page),
			chromedp.WaitVisible(chromedp.ID(id)),
			evaluate(`document.getElementById("`+id+`").click(); true`),
			chromedp.WaitVisible(chromedp.CSS(`p.notice`)),
		)
		text := b.text(t, "p.notice")
		if !strings.Contains(text, notice) {
			t.Errorf("after %s the page says %q, want %q", id, text, notice)
		}
	}

	click("pause", "Paused")
	m := e.watchMigration(t, "shop", time.Minute, func(m *v1alpha1.Migration) bool { return m.Status.Phase == v1alpha1.PhasePaused })
	if !m.Spec.Paused {
		t.Error("paused from the page, but spec.paused is false")
	}
	// The button is read from the page as it is now, on each change of the DOM: a
	// live update may replace the region it is in.
	b.run(t, 30*time.Second, chromedp.Poll[chromedp.Void](`(document.getElementById("pause") || {}).textContent === "Resume"`, chromedp.WithPollingMutation()))

	click("pause", "Resumed")
	e.watchMigration(t, "shop", time.Minute, func(m *v1alpha1.Migration) bool {
		return !m.Spec.Paused && m.Status.Phase == v1alpha1.PhaseProgressing
	})

	// The step holds for an hour: only the promotion moves it on.
	click("promote", "Promotion asked")
	m = e.watchMigration(t, "shop", time.Minute, func(m *v1alpha1.Migration) bool { return m.Status.CurrentStep >= 2 })
	if m.Status.Phase != v1alpha1.PhaseProgressing || m.Status.CurrentStep != 2 {
		t.Errorf("after one promotion: %s at step %s, want Progressing at step 2/4", m.Status.Phase, m.Status.StepDisplay)
	}
	b.run(t, 10*time.Second, chromedp.WaitVisible(chromedp.CSS(`#step[data-step="2/4"]`)))
	b.noErrors(t, "migration page")
}

func TestRollbackFromThePage(t *testing.T) {
	e := newEnv(t)
	e.deployTwice(t)
	// A deployer may do in this namespace what a rollback does; the dashboard checks
	// each verb before it shows the button.
	token := e.account(t, "deployer", []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}})
	b := newBrowser(t)
	b.login(t, e.url, token)
	b.run(t, 30*time.Second,
		chromedp.Navigate(e.url+"/apps/"+e.ns+"/shop"),
		chromedp.WaitVisible(chromedp.CSS(`a[href$="/rollback?to=1"]`)),
		evaluate(`document.querySelector('a[href$="/rollback?to=1"]').click(); true`),
		chromedp.WaitVisible(chromedp.ID("confirm-rollback")),
	)
	confirm, err := chromedp.Run(b.ctx, chromedp.OuterHTML(chromedp.ID("main")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(confirm, "image: shop/web:1.0.0") || !strings.Contains(confirm, "image: shop/web:1.1.0") {
		t.Error("the confirmation does not show the diff of the images before the rollback")
	}
	b.run(t, 60*time.Second,
		chromedp.Click(chromedp.ID("confirm-rollback")),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-revision="3"]`)), // recorded, shown live
	)
	kc, err := kube.NewForConfig(e.rest)
	if err != nil {
		t.Fatal(err)
	}
	hist, err := release.History(context.Background(), release.Config{Client: kc, Def: &app.Definition{App: "shop", Namespace: e.ns}})
	if err != nil {
		t.Fatal(err)
	}
	last := hist[len(hist)-1]
	if last.Revision != 3 || last.Image != "shop/web:1.0.0" || last.RollbackOf != 1 {
		t.Errorf("the last revision is %d of %s (a rollback of %d), want 3 of shop/web:1.0.0, a rollback to 1", last.Revision, last.Image, last.RollbackOf)
	}
	b.noErrors(t, "app page")
}

// TestLaptopModeSignsInOnceWithItsLink: ferry dashboard's mode. The printed link signs
// the browser in as the kubeconfig's user and shows the apps; the same link does not
// work a second time, and without it the pages answer 401.
func TestLaptopModeSignsInOnceWithItsLink(t *testing.T) {
	e := newEnv(t)
	e.deployTwice(t)
	srv, err := dashboard.New(dashboard.Config{Rest: e.rest, Mode: dashboard.ModeLocal, Namespace: e.ns,
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	link := hs.URL + srv.LoginPath()

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(hs.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the apps page without the link: %d, want 401", resp.StatusCode)
	}
	b := newBrowser(t)
	b.run(t, 30*time.Second,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`a[href="/apps/`+e.ns+`/shop"]`)),
	)
	b.noErrors(t, "apps page in laptop mode")

	other := newBrowser(t)
	other.run(t, 30*time.Second, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`main`)))
	if text := other.text(t, "main"); !strings.Contains(text, "used already") {
		t.Errorf("the link opened a second time says %q, want that it was used already", text)
	}
}

func TestWhatAViewerWithoutPermissionGets(t *testing.T) {
	e := newEnv(t)
	p := traffic(t)
	e.migration(t, "shop", p, time.Hour)
	e.watchMigration(t, "shop", time.Minute, func(m *v1alpha1.Migration) bool { return m.Status.Revision > 0 })
	viewer := e.account(t, "viewer", viewerRules)
	operator := e.account(t, "operator", operatorRules)
	page := "/migrations/" + e.ns + "/shop"

	t.Run("the page has no steering for a viewer", func(t *testing.T) {
		status, html := e.do(t, http.MethodGet, page, viewer, nil, nil)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d, want 200", page, status)
		}
		if strings.Contains(html, `id="abort"`) || strings.Contains(html, `id="pause"`) {
			t.Error("a viewer is shown the steering buttons")
		}
		_, html = e.do(t, http.MethodGet, page, operator, nil, nil)
		if !strings.Contains(html, `id="abort"`) {
			t.Error("an operator is not shown the abort button (the check above proves nothing)")
		}
	})
	t.Run("a forged abort gets 403 naming the permission", func(t *testing.T) {
		_, html := e.do(t, http.MethodGet, page, viewer, nil, nil)
		form := url.Values{"csrf": {csrfOf(t, html)}, "reason": {"forged"}}
		status, body := e.do(t, http.MethodPost, page+"/abort", viewer, strings.NewReader(form.Encode()),
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		if status != http.StatusForbidden {
			t.Fatalf("forged POST: %d, want 403", status)
		}
		if want := "patch on migrations.ferry.dev shop in namespace " + e.ns; !strings.Contains(body, want) {
			t.Errorf("the refusal does not name %q:\n%s", want, body)
		}
	})
	t.Run("a POST without the CSRF token gets 403", func(t *testing.T) {
		form := url.Values{"reason": {"no csrf"}}
		status, _ := e.do(t, http.MethodPost, page+"/abort", operator, strings.NewReader(form.Encode()),
			map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
		if status != http.StatusForbidden {
			t.Fatalf("POST without CSRF: %d, want 403", status)
		}
	})
	for _, tc := range []struct{ method, path, token string }{
		{http.MethodGet, "/", ""},
		{http.MethodGet, page, ""},
		{http.MethodGet, "/live?path=" + url.QueryEscape(page), ""},
		{http.MethodPost, page + "/abort", ""},
		{http.MethodGet, "/", "not-a-token"},
	} {
		t.Run("no valid token: "+tc.method+" "+tc.path, func(t *testing.T) {
			if status, _ := e.do(t, tc.method, tc.path, tc.token, nil, nil); status != http.StatusUnauthorized {
				t.Errorf("%d, want 401", status)
			}
		})
	}
	m := e.watchMigration(t, "shop", 10*time.Second, func(*v1alpha1.Migration) bool { return true })
	if m.Status.Phase == v1alpha1.PhaseAborted {
		t.Error("the refused requests aborted the migration")
	}
}

// evaluate runs a script for its effect.
func evaluate(script string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](script)(ctx, t)
		return err
	})
}

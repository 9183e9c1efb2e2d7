package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/kube"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/release"
)

// SourceConfig says what a Source watches.
type SourceConfig struct {
	Rest *rest.Config
	// Namespace limits the watches to one namespace; empty: all.
	Namespace    string
	SeriesLength int
	Log          *slog.Logger
}

// Source is what the dashboard shows, kept current by watches: the revision Secrets
// of every app (decoded once per change), the Migrations with a bounded series of the
// samples their statuses carried, and the last health check of each app. Subscribers
// hear of every change by topic ("apps", "app/NS/APP", "migrations",
// "migration/NS/NAME").
type Source struct {
	cfg   SourceConfig
	cache cache.Cache
	kube  kubernetes.Interface
	kc    *kube.Client
	// migrations is false when the API server does not serve the Migration CRD.
	migrations bool

	mu       sync.Mutex
	releases map[types.NamespacedName]*decoded // by revision Secret
	series   map[types.NamespacedName]*series
	health   map[types.NamespacedName]*healthCheck // by app
	subs     map[*subscriber]struct{}
	// healthSlots bounds the health checks that run at once.
	healthSlots chan struct{}
}

type decoded struct {
	resourceVersion string
	rel             *release.Release
}

type subscriber struct {
	wants  func(topic string) bool
	notify chan struct{}
}

// NewSource returns a source; its watches start with Start.
func NewSource(cfg SourceConfig) (*Source, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.SeriesLength <= 0 {
		cfg.SeriesLength = DefaultSeriesLength
	}
	kc, err := kube.NewForConfig(cfg.Rest)
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	scheme, err := scheme()
	if err != nil {
		return nil, err
	}
	opts := cache.Options{
		Scheme: scheme,
		ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {
				Label: labels.SelectorFromSet(labels.Set{release.LabelOwner: "ferry"}),
				Field: fields.OneTermEqualSelector("type", string(release.SecretType)),
			},
		},
	}
	if cfg.Namespace != "" {
		opts.DefaultNamespaces = map[string]cache.Config{cfg.Namespace: {}}
	}
	c, err := cache.New(cfg.Rest, opts)
	if err != nil {
		return nil, fmt.Errorf("dashboard: watch the cluster: %w", err)
	}
	return &Source{
		cfg: cfg, cache: c, kube: kc.Clientset, kc: kc,
		releases: map[types.NamespacedName]*decoded{},
		series:   map[types.NamespacedName]*series{},
		health:   map[types.NamespacedName]*healthCheck{},
		subs:     map[*subscriber]struct{}{},

		healthSlots: make(chan struct{}, 4),
	}, nil
}

// Start starts the watches and returns once their first lists are in.
func (s *Source) Start(ctx context.Context) error {
	_, err := s.kube.Discovery().ServerResourcesForGroupVersion(v1alpha1.GroupVersion.String())
	s.migrations = err == nil
	secrets, err := s.cache.GetInformer(ctx, &corev1.Secret{})
	if err != nil {
		return fmt.Errorf("dashboard: watch release secrets: %w", err)
	}
	if _, err := secrets.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { s.secretChanged(ctx, o, false) },
		UpdateFunc: func(_, o any) { s.secretChanged(ctx, o, false) },
		DeleteFunc: func(o any) { s.secretChanged(ctx, o, true) },
	}); err != nil {
		return err
	}
	if s.migrations {
		migs, err := s.cache.GetInformer(ctx, &v1alpha1.Migration{})
		if err != nil {
			return fmt.Errorf("dashboard: watch migrations: %w", err)
		}
		if _, err := migs.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
			AddFunc:    func(o any) { s.migrationChanged(o, false) },
			UpdateFunc: func(_, o any) { s.migrationChanged(o, false) },
			DeleteFunc: func(o any) { s.migrationChanged(o, true) },
		}); err != nil {
			return err
		}
	}
	go func() {
		if err := s.cache.Start(ctx); err != nil {
			s.cfg.Log.Error("dashboard watches stopped", "error", err)
		}
	}()
	if !s.cache.WaitForCacheSync(ctx) {
		return fmt.Errorf("dashboard: the watches did not start: %w", context.Cause(ctx))
	}
	return nil
}

func unwrapDeleted(o any) any {
	if d, ok := o.(toolscache.DeletedFinalStateUnknown); ok {
		return d.Obj
	}
	return o
}

func (s *Source) secretChanged(ctx context.Context, o any, deleted bool) {
	sec, ok := unwrapDeleted(o).(*corev1.Secret)
	if !ok {
		return
	}
	key := types.NamespacedName{Namespace: sec.Namespace, Name: sec.Name}
	app := sec.Labels[release.LabelApp]
	if deleted {
		s.mu.Lock()
		delete(s.releases, key)
		s.mu.Unlock()
	} else {
		s.mu.Lock()
		cur := s.releases[key]
		s.mu.Unlock()
		if cur != nil && cur.resourceVersion == sec.ResourceVersion {
			return
		}
		rel, err := release.ReadSecret(ctx, s.kube, sec)
		if err != nil {
			s.cfg.Log.Warn("unreadable revision secret", "secret", key.String(), "error", err)
			return
		}
		s.mu.Lock()
		s.releases[key] = &decoded{resourceVersion: sec.ResourceVersion, rel: rel}
		s.mu.Unlock()
	}
	s.publish("apps", "app/"+sec.Namespace+"/"+app)
}

func (s *Source) migrationChanged(o any, deleted bool) {
	m, ok := unwrapDeleted(o).(*v1alpha1.Migration)
	if !ok {
		return
	}
	key := types.NamespacedName{Namespace: m.Namespace, Name: m.Name}
	s.mu.Lock()
	if deleted {
		delete(s.series, key)
	} else {
		sr := s.series[key]
		if sr == nil {
			sr = &series{max: s.cfg.SeriesLength}
			s.series[key] = sr
		}
		sr.observe(m)
	}
	s.mu.Unlock()
	s.publish("migrations", "migration/"+m.Namespace+"/"+m.Name)
}

func (s *Source) subscribe(wants func(topic string) bool) (*subscriber, func()) {
	sub := &subscriber{wants: wants, notify: make(chan struct{}, 1)}
	s.mu.Lock()
	s.subs[sub] = struct{}{}
	s.mu.Unlock()
	return sub, func() {
		s.mu.Lock()
		delete(s.subs, sub)
		s.mu.Unlock()
	}
}

// publish tells every subscriber that wants one of topics; a subscriber that has not
// taken the last notice yet gets one notice for both.
func (s *Source) publish(topics ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sub := range s.subs {
		for _, t := range topics {
			if sub.wants(t) {
				select {
				case sub.notify <- struct{}{}:
				default:
				}
				break
			}
		}
	}
}

func scheme() (*runtime.Scheme, error) {
	sc := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1alpha1.AddToScheme} {
		if err := add(sc); err != nil {
			return nil, err
		}
	}
	return sc, nil
}

// appKey names an app: its namespace and name.
type appKey = types.NamespacedName

// Apps returns every app's revisions, newest first, by app.
func (s *Source) Apps() map[appKey][]*release.Release {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[appKey][]*release.Release{}
	for key, d := range s.releases {
		k := appKey{Namespace: key.Namespace, Name: d.rel.App}
		out[k] = append(out[k], d.rel)
	}
	for _, revs := range out {
		sortNewestFirst(revs)
	}
	return out
}

// App returns one app's revisions, newest first.
func (s *Source) App(ns, name string) []*release.Release {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*release.Release
	for key, d := range s.releases {
		if key.Namespace == ns && d.rel.App == name {
			out = append(out, d.rel)
		}
	}
	sortNewestFirst(out)
	return out
}

func sortNewestFirst(revs []*release.Release) {
	sort.Slice(revs, func(i, j int) bool { return revs[i].Revision > revs[j].Revision })
}

// Migrations returns every Migration, by namespace then name.
func (s *Source) Migrations(ctx context.Context) ([]v1alpha1.Migration, error) {
	if !s.migrations {
		return nil, nil
	}
	var list v1alpha1.MigrationList
	if err := s.cache.List(ctx, &list); err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	sort.Slice(list.Items, func(i, j int) bool {
		a, b := list.Items[i], list.Items[j]
		return a.Namespace < b.Namespace || a.Namespace == b.Namespace && a.Name < b.Name
	})
	return list.Items, nil
}

// Migration returns one Migration and its series, nil when there is none.
func (s *Source) Migration(ctx context.Context, ns, name string) (*v1alpha1.Migration, []point, error) {
	if !s.migrations {
		return nil, nil, nil
	}
	var m v1alpha1.Migration
	if err := s.cache.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &m); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return nil, nil, nil
		}
		return nil, nil, fmt.Errorf("read migration %s/%s: %w", ns, name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var pts []point
	if sr := s.series[types.NamespacedName{Namespace: ns, Name: name}]; sr != nil {
		pts = sr.points()
	}
	return &m, pts, nil
}

// engineState decodes the engine's record in m's status; nil when there is none.
func engineState(m *v1alpha1.Migration) *migrate.State {
	if m.Status.Engine == nil || len(m.Status.Engine.Raw) == 0 {
		return nil
	}
	var st migrate.State
	if json.Unmarshal(m.Status.Engine.Raw, &st) != nil {
		return nil
	}
	st.Version = strconv.FormatInt(m.Status.Revision, 10)
	return &st
}

// healthCheck is the last look at an app's objects.
type healthCheck struct {
	at       time.Time
	running  bool
	healthy  bool
	summary  string
	deploy   string // who deploys now, if anyone
	revision int
}

const healthMaxAge = 15 * time.Second

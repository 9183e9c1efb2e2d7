package dashboard

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// What the dashboard does as the controller's service account, served by `ferry
// controller --dashboard-addr`: it reviews the viewers' tokens and permissions, watches
// the release Secrets and Migrations, reads the deploy lock, and reads the objects of
// a release for their health (the workload kinds below; an object of another kind
// shows as unreadable). `make generate` adds these to config/rbac/role.yaml beside
// the reconciler's.
//
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create
// +kubebuilder:rbac:groups="",resources=secrets,verbs=list;watch
// +kubebuilder:rbac:groups=ferry.dev,resources=migrations,verbs=list;watch
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get
// +kubebuilder:rbac:groups="",resources=services;configmaps;pods;persistentvolumeclaims,verbs=get;list
// +kubebuilder:rbac:groups=apps,resources=deployments;statefulsets;daemonsets;replicasets,verbs=get;list
// +kubebuilder:rbac:groups=batch,resources=jobs;cronjobs,verbs=get;list
// +kubebuilder:rbac:groups=policy,resources=poddisruptionbudgets,verbs=get
// +kubebuilder:rbac:groups=autoscaling,resources=horizontalpodautoscalers,verbs=get

// Mode says who the dashboard acts as.
type Mode int

const (
	// ModeCluster serves many people from inside the cluster: every request carries
	// a bearer token, checked with TokenReview; reads and actions are authorized
	// with SubjectAccessReview for its user, and actions are carried out with the
	// viewer's own token.
	ModeCluster Mode = iota
	// ModeLocal serves the one person whose kubeconfig it runs with, on the loopback
	// address: a one-time token printed in the URL becomes a session cookie;
	// authorization asks the API server what that kubeconfig may do
	// (SelfSubjectAccessReview).
	ModeLocal
)

// Config is how a Server runs.
type Config struct {
	// Rest reaches the cluster as the dashboard itself: the controller's service
	// account, or the user's kubeconfig in ModeLocal.
	Rest *rest.Config
	Mode Mode
	// Namespace limits the dashboard to one namespace; empty: all.
	Namespace string
	// Log receives the server's own messages (default: discarded).
	Log *slog.Logger
	// SeriesLength bounds the samples kept per migration for its charts
	// (default DefaultSeriesLength).
	SeriesLength int
	// DecisionTTL is how long an authorization answer is reused for the same
	// viewer (default DefaultDecisionTTL).
	DecisionTTL time.Duration
}

// Defaults of Config.
const (
	DefaultSeriesLength = 720
	DefaultDecisionTTL  = 10 * time.Second
)

// Server is the dashboard. Start its watches with Start, then serve Handler.
type Server struct {
	cfg      Config
	kube     kubernetes.Interface
	source   *Source
	access   *access
	sessions *sessions
	pages    templates
	mux      *http.ServeMux
	notesMu  sync.Mutex
	notes    map[appKey]string // the last rollback asked from the dashboard, by app

	// loginToken is the one-time token of ModeLocal's URL; empty once used.
	loginToken string
}

// New returns a server; its watches start with Start.
func New(cfg Config) (*Server, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.SeriesLength <= 0 {
		cfg.SeriesLength = DefaultSeriesLength
	}
	if cfg.DecisionTTL <= 0 {
		cfg.DecisionTTL = DefaultDecisionTTL
	}
	cs, err := kubernetes.NewForConfig(cfg.Rest)
	if err != nil {
		return nil, fmt.Errorf("dashboard: %w", err)
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	src, err := NewSource(SourceConfig{Rest: cfg.Rest, Namespace: cfg.Namespace, SeriesLength: cfg.SeriesLength, Log: cfg.Log})
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, kube: cs, source: src, pages: pages,
		access:   newAccess(cfg.Mode, cs, cfg.DecisionTTL),
		sessions: newSessions(),
		notes:    map[appKey]string{},
	}
	if cfg.Mode == ModeLocal {
		s.loginToken = randomToken()
	}
	s.routes()
	return s, nil
}

// Start starts the watches and returns once their first lists are in, or ctx ends.
// They run until ctx ends.
func (s *Server) Start(ctx context.Context) error {
	return s.source.Start(ctx)
}

// LoginPath is the path with the one-time token that opens a session in ModeLocal.
func (s *Server) LoginPath() string { return "/login?token=" + s.loginToken }

// Handler serves the dashboard.
func (s *Server) Handler() http.Handler { return s.mux }

// Serve serves the dashboard on ln until ctx ends.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(shut)
	}()
	s.sessions.expireEvery(ctx, time.Minute)
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve the dashboard: %w", err)
	}
	return nil
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

package dashboard

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Permission is one verb on one kind of resource in a namespace, as RBAC grants it.
type Permission struct {
	Verb      string
	Group     string
	Resource  string
	Namespace string
	Name      string
}

// String says the permission as a person would ask for it: "patch on
// migrations.ferry.dev in namespace shop".
func (p Permission) String() string {
	res := p.Resource
	if p.Group != "" {
		res += "." + p.Group
	}
	s := p.Verb + " on " + res
	if p.Name != "" {
		s += " " + p.Name
	}
	if p.Namespace != "" {
		s += " in namespace " + p.Namespace
	}
	return s
}

// The permissions of the dashboard's reads and actions.
func readReleases(ns string) Permission {
	return Permission{Verb: "list", Resource: "secrets", Namespace: ns}
}

func listMigrations(ns string) Permission {
	return Permission{Verb: "list", Group: "ferry.dev", Resource: "migrations", Namespace: ns}
}

func getMigration(ns, name string) Permission {
	return Permission{Verb: "get", Group: "ferry.dev", Resource: "migrations", Namespace: ns, Name: name}
}

// steerMigration is what pause, promote and abort need: each is a patch of the
// Migration (spec.paused, or a request annotation).
func steerMigration(ns, name string) Permission {
	return Permission{Verb: "patch", Group: "ferry.dev", Resource: "migrations", Namespace: ns, Name: name}
}

// access answers whether a viewer holds a permission: SubjectAccessReview for the
// viewer's user in ModeCluster, SelfSubjectAccessReview of the kubeconfig in
// ModeLocal. Answers are reused for ttl.
type access struct {
	mode Mode
	kube kubernetes.Interface
	ttl  time.Duration

	mu      sync.Mutex
	answers map[string]answer
}

type answer struct {
	allowed bool
	expires time.Time
}

func newAccess(mode Mode, kube kubernetes.Interface, ttl time.Duration) *access {
	return &access{mode: mode, kube: kube, ttl: ttl, answers: map[string]answer{}}
}

// allowed reports whether v holds p.
func (a *access) allowed(ctx context.Context, v *viewer, p Permission) (bool, error) {
	key := v.key + "\x00" + p.String()
	a.mu.Lock()
	ans, ok := a.answers[key]
	a.mu.Unlock()
	if ok && time.Now().Before(ans.expires) {
		return ans.allowed, nil
	}
	attrs := &authzv1.ResourceAttributes{Namespace: p.Namespace, Verb: p.Verb, Group: p.Group, Resource: p.Resource, Name: p.Name}
	var allowed bool
	if a.mode == ModeLocal {
		r, err := a.kube.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authzv1.SelfSubjectAccessReview{
			Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: attrs},
		}, metav1.CreateOptions{})
		if err != nil {
			return false, fmt.Errorf("ask whether you may %s: %w", p, err)
		}
		allowed = r.Status.Allowed
	} else {
		r, err := a.kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authzv1.SubjectAccessReview{
			Spec: authzv1.SubjectAccessReviewSpec{ResourceAttributes: attrs, User: v.User, UID: v.UID, Groups: v.Groups, Extra: v.Extra},
		}, metav1.CreateOptions{})
		if err != nil {
			return false, fmt.Errorf("ask whether %s may %s: %w", v.User, p, err)
		}
		allowed = r.Status.Allowed
	}
	a.mu.Lock()
	a.answers[key] = answer{allowed: allowed, expires: time.Now().Add(a.ttl)}
	a.mu.Unlock()
	return allowed, nil
}

// missing returns the permissions of ps that v lacks.
func (a *access) missing(ctx context.Context, v *viewer, ps []Permission) ([]Permission, error) {
	var out []Permission
	for _, p := range ps {
		ok, err := a.allowed(ctx, v, p)
		if err != nil {
			return nil, err
		}
		if !ok {
			out = append(out, p)
		}
	}
	return out, nil
}

// refusal is the sentence of a 403: which permissions are missing.
func refusal(user, what string, missing []Permission) string {
	names := make([]string, len(missing))
	for i, p := range missing {
		names[i] = p.String()
	}
	return fmt.Sprintf("%s may not %s: it needs %s.", user, what, strings.Join(names, ", "))
}

package devclustertest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// WatchFor lists and watches the objects of lw until cond holds for one of them and
// returns that object; it fails the test when none does within timeout (or the test's
// Patience). T is the
// object's pointer type (*coordinationv1.Lease); deletions are not shown to cond.
func WatchFor[T runtime.Object](tb testing.TB, timeout time.Duration, what string, lw cache.ListerWatcher, cond func(T) bool) T {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Patience(tb, timeout))
	defer cancel()
	example := reflect.New(reflect.TypeFor[T]().Elem()).Interface().(runtime.Object)
	ev, err := watchtools.UntilWithSync(ctx, lw, example, nil, func(e watch.Event) (bool, error) {
		obj, ok := e.Object.(T)
		return ok && e.Type != watch.Deleted && cond(obj), nil
	})
	if err != nil {
		tb.Fatalf("waiting for %s: %v", what, err)
	}
	return ev.Object.(T)
}

// Named lists and watches the one object called name of a resource ("deployments")
// in namespace ns, for WatchFor; c is the REST client of the resource's group, such
// as clientset.AppsV1().RESTClient().
func Named(c cache.Getter, resource, ns, name string) *cache.ListWatch {
	return cache.NewListWatchFromClient(c, resource, ns, fields.OneTermEqualSelector("metadata.name", name))
}

package kube

import (
	"context"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
)

// watches keeps the objects of a wait that are not yet healthy up to date from one
// watch each, so the wait sees a change as it happens instead of at its next poll
// and costs the API server no repeated reads. An object whose watch cannot start or
// ends is read again by the next poll, which starts a new watch from what it read.
type watches struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// wake has room for one signal: a change since the waiter last looked.
	wake chan struct{}

	mu   sync.Mutex
	live map[string]*watched
	// warnings are the warning events of each watched namespace not yet taken.
	warnings map[string][]corev1.Event
}

type watched struct {
	obj *unstructured.Unstructured // nil once deleted
}

func newWatches(ctx context.Context) *watches {
	ctx, cancel := context.WithCancel(ctx)
	return &watches{ctx: ctx, cancel: cancel, wake: make(chan struct{}, 1), live: map[string]*watched{}, warnings: map[string][]corev1.Event{}}
}

// get returns the watched object (nil when it was deleted) and true, or false when
// the object is not watched.
func (ws *watches) get(key string) (*unstructured.Unstructured, bool) {
	if ws == nil {
		return nil, false
	}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	w, ok := ws.live[key]
	if !ok {
		return nil, false
	}
	return w.obj, true
}

// start watches obj from the version read; an object already watched, or one the
// watch cannot start for, is left to polling.
func (ws *watches) start(c *Client, ref Ref, obj *unstructured.Unstructured) {
	if ws == nil || ws.ctx.Err() != nil {
		return
	}
	ws.mu.Lock()
	_, dup := ws.live[ref.Key()]
	ws.mu.Unlock()
	if dup {
		return
	}
	res, err := c.Resource(ref)
	if err != nil {
		return
	}
	wi, err := res.Watch(ws.ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + ref.Name, ResourceVersion: obj.GetResourceVersion()})
	if err != nil {
		return
	}
	ws.mu.Lock()
	ws.live[ref.Key()] = &watched{obj: obj}
	ws.mu.Unlock()
	ws.wg.Add(1)
	go ws.follow(ref.Key(), wi)
}

// follow applies wi's events to key until the watch ends or the wait is over; then
// the object goes back to polling.
func (ws *watches) follow(key string, wi watch.Interface) {
	defer ws.wg.Done()
	defer wi.Stop()
	defer func() {
		ws.mu.Lock()
		delete(ws.live, key)
		ws.mu.Unlock()
		ws.nudge()
	}()
	for {
		select {
		case <-ws.ctx.Done():
			return
		case e, ok := <-wi.ResultChan():
			if !ok {
				return
			}
			obj, isObj := e.Object.(*unstructured.Unstructured)
			switch {
			case e.Type == watch.Error || !isObj:
				return // e.g. the version read is too old: read it again
			case e.Type == watch.Deleted:
				obj = nil
			case e.Type != watch.Added && e.Type != watch.Modified:
				continue
			}
			ws.mu.Lock()
			ws.live[key].obj = obj
			ws.mu.Unlock()
			ws.nudge()
		}
	}
}

// events takes the warning events watched in namespace since the last call, and
// reports whether it is watched.
func (ws *watches) events(namespace string) ([]corev1.Event, bool) {
	if ws == nil {
		return nil, false
	}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	got, ok := ws.warnings[namespace]
	if ok {
		ws.warnings[namespace] = nil
	}
	return got, ok
}

// startEvents watches namespace's warning events from version; if it cannot, they
// are listed again on the next deep poll.
func (ws *watches) startEvents(c *Client, namespace, version string) {
	if ws == nil || ws.ctx.Err() != nil {
		return
	}
	wi, err := c.Clientset.CoreV1().Events(namespace).Watch(ws.ctx, metav1.ListOptions{FieldSelector: warningsOnly, ResourceVersion: version})
	if err != nil {
		return
	}
	ws.mu.Lock()
	ws.warnings[namespace] = nil
	ws.mu.Unlock()
	ws.wg.Add(1)
	go ws.followEvents(namespace, wi)
}

func (ws *watches) followEvents(namespace string, wi watch.Interface) {
	defer ws.wg.Done()
	defer wi.Stop()
	for {
		var e watch.Event
		ok := false
		select {
		case <-ws.ctx.Done():
		case e, ok = <-wi.ResultChan():
		}
		ev, isEvent := e.Object.(*corev1.Event)
		if !ok || e.Type == watch.Error || !isEvent {
			// Back to listing: the next one brings back the events not yet taken.
			ws.mu.Lock()
			delete(ws.warnings, namespace)
			ws.mu.Unlock()
			return
		}
		if e.Type == watch.Added || e.Type == watch.Modified {
			ws.mu.Lock()
			ws.warnings[namespace] = append(ws.warnings[namespace], *ev)
			ws.mu.Unlock()
		}
	}
}

func (ws *watches) nudge() {
	select {
	case ws.wake <- struct{}{}:
	default:
	}
}

// stop ends every watch and waits for them.
func (ws *watches) stop() {
	ws.cancel()
	ws.wg.Wait()
}

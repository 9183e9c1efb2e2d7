package kubestore

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/migrate"
	"ferry.dev/ferry/internal/traffic"
)

// Phase is the Migration's phase for its recorded state: Pending before the first
// record, Paused while spec.paused holds a live run (an abort under way goes on),
// else the engine's (PhaseOf).
func Phase(m *v1alpha1.Migration, st *migrate.State) v1alpha1.Phase {
	switch {
	case st == nil:
		return v1alpha1.PhasePending
	case m.Spec.Paused && !st.Phase.Done() && st.Phase != migrate.PhaseAborting:
		return v1alpha1.PhasePaused
	}
	return PhaseOf(st.Phase)
}

// Hold is the reason to hold last recorded: the Progressing condition's message.
func Hold(m *v1alpha1.Migration) string {
	if c := meta.FindStatusCondition(m.Status.Conditions, v1alpha1.ConditionProgressing); c != nil {
		return c.Message
	}
	return ""
}

// SetConditions sets the Ready, Progressing and Degraded conditions from the
// status's phase and the recorded state st, at generation; hold is why the step
// holds (the Progressing condition's message, kept only while progressing). The
// store sets them with every save and the controller with every reconcile, so a
// reader never sees a phase and conditions that disagree (an Aborted Migration
// still Progressing).
func SetConditions(m *v1alpha1.Migration, st *migrate.State, hold string, generation int64) {
	s := &m.Status
	phase := string(s.Phase)
	if s.Phase != v1alpha1.PhaseProgressing {
		hold = ""
	}
	SetCondition(m, v1alpha1.ConditionReady, s.Phase == v1alpha1.PhaseCompleted, phase, readyMessage(st), generation)
	SetCondition(m, v1alpha1.ConditionProgressing, s.Phase == v1alpha1.PhaseProgressing || s.Phase == v1alpha1.PhasePending, phase, hold, generation)
	switch {
	case st != nil && st.Phase == migrate.PhaseAborting && strings.HasPrefix(st.Guard, "abort limited: "):
		// The legacy-capacity guard kept part of the traffic on Kubernetes: say why,
		// and that the abort goes on.
		SetCondition(m, v1alpha1.ConditionDegraded, true, "AbortLimited", st.Reason+"; "+st.Guard+"; the abort goes on as legacy recovers", generation)
	case st != nil && (st.Phase == migrate.PhaseAborting || st.Phase == migrate.PhaseAborted):
		SetCondition(m, v1alpha1.ConditionDegraded, true, "Aborted", st.Reason, generation)
	default:
		SetCondition(m, v1alpha1.ConditionDegraded, false, "Healthy", "", generation)
	}
}

// SetCondition sets one condition of the status, True when ok.
func SetCondition(m *v1alpha1.Migration, typ string, ok bool, reason, msg string, generation int64) {
	status := metav1.ConditionFalse
	if ok {
		status = metav1.ConditionTrue
	}
	meta.SetStatusCondition(&m.Status.Conditions, metav1.Condition{Type: typ, Status: status, Reason: reason, Message: msg, ObservedGeneration: generation})
}

func readyMessage(st *migrate.State) string {
	switch {
	case st == nil:
		return "not started"
	case st.Phase == migrate.PhaseCompleted:
		return "all traffic on kubernetes"
	}
	return fmt.Sprintf("step %d at %s to kubernetes", st.Step+1, traffic.FormatPercent(st.Applied.Kubernetes))
}

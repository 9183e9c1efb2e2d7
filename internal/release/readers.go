package release

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"
)

// ReadSecret returns the revision a revision Secret (of SecretType) holds, as a
// SecretStore's List would: a split revision's parts are read through client, and
// one that cannot be read back whole comes back with StatusIncomplete. Readers that
// watch the Secrets themselves (the dashboard) decode them with it.
func ReadSecret(ctx context.Context, client kubernetes.Interface, sec *corev1.Secret) (*Release, error) {
	s := &SecretStore{Client: client, Namespace: sec.Namespace}
	return s.read(ctx, sec)
}

// DeployingNow names the holder of app's deploy lock in namespace ns while a deploy
// or rollback runs; empty when none does (or the lock cannot be read).
func DeployingNow(ctx context.Context, client kubernetes.Interface, ns, app string) string {
	lease, err := client.CoordinationV1().Leases(ns).Get(ctx, lockName(app), metaGet)
	if err != nil {
		return ""
	}
	return liveHolder(lease)
}

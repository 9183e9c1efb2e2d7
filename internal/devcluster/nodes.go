package devcluster

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

var metav1GetOptions = metav1.GetOptions{}

// zones spreads the fake nodes the way a three-zone cloud region would.
var zones = []string{"zone-a", "zone-b", "zone-c"}

// fakeNode is a node that kwok manages: 16 CPU, 64 GiB, 110 pods, like a mid-size
// cloud instance.
func fakeNode(i int) *corev1.Node {
	name := fmt.Sprintf("kwok-node-%02d", i)
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("16"),
		corev1.ResourceMemory:           resource.MustParse("64Gi"),
		corev1.ResourcePods:             resource.MustParse("110"),
		corev1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
			Labels: map[string]string{
				"kubernetes.io/hostname":           name,
				"kubernetes.io/os":                 "linux",
				"kubernetes.io/arch":               "amd64",
				"node.kubernetes.io/instance-type": "m5.4xlarge",
				"topology.kubernetes.io/zone":      zones[i%len(zones)],
				"type":                             "kwok",
			},
		},
		Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
	}
}

func createNodes(ctx context.Context, client kubernetes.Interface, n int) error {
	for i := range n {
		_, err := client.CoreV1().Nodes().Create(ctx, fakeNode(i), metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create node: %w", err)
		}
	}
	return nil
}

// nodesReady returns nil once at least n nodes report Ready.
func nodesReady(ctx context.Context, client kubernetes.Interface, n int) error {
	nodes, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	ready := 0
	for _, node := range nodes.Items {
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				ready++
			}
		}
	}
	if ready < n {
		return fmt.Errorf("%d of %d nodes Ready", ready, n)
	}
	return nil
}

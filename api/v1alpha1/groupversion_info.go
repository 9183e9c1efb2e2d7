package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// GroupVersion is the group and version of this package's resources.
var GroupVersion = schema.GroupVersion{Group: "ferry.dev", Version: "v1alpha1"}

// AddToScheme registers the package's types in a scheme.
func AddToScheme(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion, &Migration{}, &MigrationList{})
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}

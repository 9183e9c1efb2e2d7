// Package v1alpha1 is the ferry.dev/v1alpha1 API: the Migration custom resource, whose
// spec is a migration plan (internal/plan) and whose status is the migration's state,
// kept by the controller. It imports internal/plan for the conversion and nothing
// that runs a migration.
//
// +kubebuilder:object:generate=true
// +groupName=ferry.dev
package v1alpha1

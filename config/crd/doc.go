// Package crd holds ferry's CustomResourceDefinitions, generated from api/v1alpha1 by
// `make generate`, and installs them. It imports no ferry package.
package crd

// Package render turns an app's manifest source (a directory of YAML, a kustomization
// or a Helm chart) into Kubernetes objects, and sets the deployed image on them. It
// talks to no cluster: it must not import Kubernetes clients.
package render

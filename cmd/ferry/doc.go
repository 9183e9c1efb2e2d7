// Command ferry moves a legacy web application onto Kubernetes and ships it there.
// It only wires: it imports internal/cli and nothing else of ferry's.
package main

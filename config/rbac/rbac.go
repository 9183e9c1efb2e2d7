package rbac

import (
	_ "embed"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/yaml"
)

//go:embed role.yaml
var roleYAML []byte

// RoleName is the ClusterRole's name.
const RoleName = "ferry-controller"

// Role returns the controller's ClusterRole.
func Role() (*rbacv1.ClusterRole, error) {
	var r rbacv1.ClusterRole
	if err := yaml.UnmarshalStrict(roleYAML, &r); err != nil {
		return nil, fmt.Errorf("config/rbac/role.yaml: %w", err)
	}
	return &r, nil
}

// Package route53 is a traffic.Router over weighted DNS: two weighted Route 53 records
// of one name, one per side, changed in one atomic batch per step through the AWS SDK.
// It must not import internal/migrate or other routers.
package route53

// Package awserr shortens the AWS SDK's errors for ferry's one-line messages (the
// Route 53 and ALB routers). It imports no ferry package but internal/redact.
package awserr

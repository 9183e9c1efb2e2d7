// Package albtest is a local server that speaks the documented Elastic Load Balancing
// v2 query API (version 2015-12-01) for the call ferry's ALB router makes,
// DescribeTargetHealth, over target groups whose targets and their health the test
// sets. It stands in for AWS, which tests cannot reach: the real SDK talks to it.
// It imports no ferry package.
package albtest

// Package devclustertest gives a test binary one real local control plane: TestMain
// calls Main, tests call RESTConfig or Kubeconfig and Namespace for a namespace of
// their own. When FERRY_TEST_KUBECONFIG is set (make test starts one cluster for all
// packages, hack/test.sh), that cluster is used instead. It also holds the tests'
// ways to wait: WatchFor on an object's state, Poll and WaitFor on anything else.
package devclustertest

// etcd built from its server module at the version the pinned Kubernetes release tests with
// (k8s.io/kubernetes build/dependencies.yaml), the storage behind tools/kube-apiserver.
// etcd's own module replaces its siblings by local paths, so `go install` of it is refused;
// a dependent module like this one builds the same entry point.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}

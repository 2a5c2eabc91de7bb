// kube-apiserver built from the k8s.io/kubernetes module at the Kubernetes version of the
// inventory's K3s, for lumen check --server (a dry-run apply of every rendered object) and the
// tests. The same entry point as upstream's cmd/kube-apiserver.
package main

import (
	"os"
	_ "time/tzdata" // CronJob time zones

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"
	_ "k8s.io/component-base/metrics/prometheus/clientgo"
	_ "k8s.io/component-base/metrics/prometheus/version"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	command := app.NewAPIServerCommand()
	code := cli.Run(command)
	os.Exit(code)
}

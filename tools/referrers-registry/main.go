// A registry that serves the OCI distribution spec 1.1 referrers API, for the tests: go-containerregistry's
// registry package (the one `crane registry serve` runs) with referrers on, blobs on disk, manifests in memory.
//
//	referrers-registry --address 127.0.0.1:PORT --disk DIR
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/registry"
)

func main() {
	address := flag.String("address", "127.0.0.1:0", "address to listen on")
	disk := flag.String("disk", "", "directory for blobs (required)")
	flag.Parse()
	if *disk == "" {
		log.Fatal("referrers-registry: --disk DIR is required")
	}
	if err := os.MkdirAll(*disk, 0o700); err != nil {
		log.Fatal(err)
	}
	listener, err := net.Listen("tcp", *address)
	if err != nil {
		log.Fatal(err)
	}
	server := &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler: registry.New(
			registry.WithBlobHandler(registry.NewDiskBlobHandler(*disk)),
			registry.WithReferrersSupport(true),
			registry.Logger(log.New(os.Stderr, "", log.LstdFlags)),
		),
	}
	log.Printf("serving on %s", listener.Addr())
	log.Fatal(server.Serve(listener))
}

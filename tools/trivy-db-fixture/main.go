// trivy-db-fixture writes a tiny Trivy vulnerability database (trivy.db + metadata.json) in Trivy's
// real format, through trivy-db's own packages: the tests of `lumen image scan` run the real Trivy
// on it, since the published database cannot be downloaded on the machines that run them.
//
//	trivy-db-fixture DESCRIPTION.json OUT-DIR
//
// DESCRIPTION.json: {"advisories": [{"id": "CVE-…", "ecosystem": "npm" | "debian 12", "package": "…",
// "vulnerable": ">=1.0.0, <1.2.3" (npm only), "fixed": "1.2.3" (absent: no fix yet), "severity": "HIGH",
// "title": "…"}]}. Exit 2 for a bad description, 1 when the database cannot be written.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aquasecurity/trivy-db/pkg/db"
	"github.com/aquasecurity/trivy-db/pkg/metadata"
	"github.com/aquasecurity/trivy-db/pkg/types"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc/bucket"
	"github.com/aquasecurity/trivy-db/pkg/vulnsrc/vulnerability"
	bolt "go.etcd.io/bbolt"
)

type advisory struct {
	ID         string `json:"id"`
	Ecosystem  string `json:"ecosystem"`
	Package    string `json:"package"`
	Vulnerable string `json:"vulnerable"`
	Fixed      string `json:"fixed"`
	Severity   string `json:"severity"`
	Title      string `json:"title"`
}

// The data sources the published database names for these ecosystems: Trivy reads the severity of a
// finding from the vendor severity of the source its advisory came from.
var (
	ghsaNpm = types.DataSource{ID: vulnerability.GHSA, Name: "GitHub Security Advisory npm", URL: "https://github.com/advisories?query=type%3Areviewed+ecosystem%3Anpm"}
	debian  = types.DataSource{ID: vulnerability.Debian, Name: "Debian Security Tracker", URL: "https://salsa.debian.org/security-tracker-team/security-tracker"}
)

func usage(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "trivy-db-fixture: "+format+"\n", args...)
	os.Exit(2)
}

func main() {
	if len(os.Args) != 3 {
		usage("usage: trivy-db-fixture DESCRIPTION.json OUT-DIR")
	}
	text, err := os.ReadFile(os.Args[1])
	if err != nil {
		usage("cannot read %s: %v", os.Args[1], err)
	}
	var description struct {
		Advisories []advisory `json:"advisories"`
	}
	decoder := json.NewDecoder(strings.NewReader(string(text)))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&description); err != nil {
		usage("%s: %v", os.Args[1], err)
	}
	for i, a := range description.Advisories {
		if _, err := types.NewSeverity(a.Severity); a.ID == "" || a.Package == "" || err != nil {
			usage("advisories[%d]: id, package and severity (UNKNOWN, LOW, MEDIUM, HIGH, CRITICAL) are required", i)
		}
		if a.Ecosystem == "npm" && a.Vulnerable == "" {
			usage("advisories[%d]: an npm advisory needs its vulnerable range", i)
		}
		if a.Ecosystem != "npm" && !strings.HasPrefix(a.Ecosystem, "debian ") {
			usage("advisories[%d]: ecosystem must be npm or 'debian <release>', got %q", i, a.Ecosystem)
		}
	}
	if err := write(os.Args[2], description.Advisories); err != nil {
		fmt.Fprintf(os.Stderr, "trivy-db-fixture: %v\n", err)
		os.Exit(1)
	}
}

func write(dir string, advisories []advisory) error {
	if err := db.Init(dir); err != nil {
		return err
	}
	dbc := db.Config{}
	err := dbc.BatchUpdate(func(tx *bolt.Tx) error {
		for _, a := range advisories {
			var bkt string
			var source types.DataSource
			var value types.Advisory
			if a.Ecosystem == "npm" {
				b, err := bucket.NewNpm(ghsaNpm)
				if err != nil {
					return err
				}
				bkt, source = b.Name(), ghsaNpm
				value = types.Advisory{VulnerableVersions: []string{a.Vulnerable}}
				if a.Fixed != "" {
					value.PatchedVersions = []string{a.Fixed}
				}
			} else {
				bkt, source = bucket.NewDebian(strings.TrimPrefix(a.Ecosystem, "debian ")).Name(), debian
				value = types.Advisory{FixedVersion: a.Fixed}
			}
			if err := dbc.PutDataSource(tx, bkt, source); err != nil {
				return err
			}
			if err := dbc.PutAdvisory(tx, []string{bkt, a.Package}, a.ID, value); err != nil {
				return err
			}
			severity, _ := types.NewSeverity(a.Severity) // checked in main
			if err := dbc.PutVulnerability(tx, a.ID, types.Vulnerability{
				Title:          a.Title,
				Severity:       severity.String(),
				VendorSeverity: types.VendorSeverity{source.ID: severity},
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := db.Close(); err != nil {
		return err
	}
	// NextUpdate a day ahead: a Trivy that finds this database in its cache does not try to replace it.
	now := time.Now().UTC()
	meta := metadata.Metadata{Version: db.SchemaVersion, NextUpdate: now.Add(24 * time.Hour), UpdatedAt: now}
	return metadata.NewClient(filepath.Clean(dir)).Update(meta)
}

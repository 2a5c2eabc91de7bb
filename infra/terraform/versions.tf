# Exact provider versions: `terraform init` on an airgapped operator machine installs them from a filesystem
# mirror (docs/provisioning.md), which holds exactly these builds.
terraform {
  # The line it is checked with (terraform fmt and console in test/terraform.test.ts); nothing newer is needed.
  required_version = ">= 1.11.0"

  required_providers {
    # 1.4.3 is the first release whose multipass_instance exports `ipv4` (read from `multipass info`); 1.4.2 has
    # no computed attribute at all. It has no network argument: the site address comes from cloud-init.
    multipass = {
      source  = "larstobi/multipass"
      version = "1.4.3"
    }
    # Only local_file, to put each node's rendered cloud-init where `multipass launch --cloud-init` reads it
    # (multipass_instance takes a path, not content). 2.5.3 is the last release before actions and ephemeral
    # resources, which this configuration does not use and which need a newer Terraform.
    local = {
      source  = "hashicorp/local"
      version = "2.5.3"
    }
  }
}

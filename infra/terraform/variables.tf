variable "site_file" {
  description = "Path of the site settings the VMs are made from; null (the default) means the repository's inventory/site.yaml."
  type        = string
  default     = null
}

variable "ssh_public_key_file" {
  description = "Path of the operator's SSH public key (a file on the operator's machine, never a key in Git), authorized for the nodes' default user; ~ is expanded."
  type        = string
  default     = "~/.ssh/id_ed25519.pub"

  validation {
    # can() also turns a missing or unreadable file into this message rather than an evaluation error.
    condition     = can(regex("^(ssh|ecdsa-sha2)-", trimspace(file(pathexpand(var.ssh_public_key_file)))))
    error_message = "ssh_public_key_file must name an existing OpenSSH public key file (ssh-ed25519 …, ssh-rsa …, ecdsa-sha2-… …)."
  }
}

variable "image" {
  description = "Image multipass launches (`multipass launch IMAGE`): an Ubuntu release such as 24.04, or on an airgapped operator machine a carried cloud image as file:///path/ubuntu-24.04-server-cloudimg-amd64.img."
  type        = string
  default     = "24.04"
}

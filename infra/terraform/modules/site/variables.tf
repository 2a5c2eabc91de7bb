variable "site_file" {
  description = "Path of the site settings (inventory/site.yaml): the nodes, their roles, sizes and addresses, and the network."
  type        = string
}

variable "ssh_public_key_file" {
  description = "Path of the operator's SSH public key, authorized for the nodes' default user."
  type        = string
}

variable "cloud_init_template" {
  description = "Path of the cloud-init template every node's user-data is rendered from (templatefile)."
  type        = string
}

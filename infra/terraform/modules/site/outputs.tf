output "nodes" {
  description = "Every node of the site by name: role, site address, CPUs, memory and disk as multipass takes them."
  value       = local.nodes
}

output "cloud_init" {
  description = "Each node's rendered cloud-init user-data, by node name."
  value       = local.cloud_init
}

output "user" {
  description = "The nodes' default user, which the operator's key is authorized for."
  value       = local.user
}

output "registry" {
  description = "The airgap registry (host:port), the node that serves it, and whether it is plain HTTP."
  value       = local.registry
}

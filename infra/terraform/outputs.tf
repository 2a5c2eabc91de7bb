output "ipv4" {
  description = "Each node's IPv4 address as Multipass reports it first (normally its DHCP lease on the Multipass bridge, not the site address), by node name."
  value       = { for name, vm in multipass_instance.node : name => vm.ipv4 }
}

output "nodes" {
  description = "Each node by name: its role, its site address (what the platform and Ansible use) and the address Multipass reports."
  value = {
    for name, n in module.site.nodes : name => {
      role      = n.role
      site_ip   = n.ip
      multipass = multipass_instance.node[name].ipv4
      registry  = n.registry
    }
  }
}

output "registry" {
  description = "The airgap registry (host:port from site.yaml) and the node whose cloud-init prepared its data directory."
  value       = module.site.registry
}

output "user" {
  description = "The nodes' default user, which the operator's key is authorized for (ansible-playbook -u)."
  value       = module.site.user
}

# Everything the VMs are made of, derived from inventory/site.yaml and nothing else. This module has no provider,
# so `terraform console` evaluates it offline: test/terraform.test.ts renders each node's cloud-init with it.

locals {
  site = yamldecode(file(var.site_file))

  # "192.168.2.0/24" → 24: every node carries its site address with the site network's prefix.
  prefix_length = split("/", local.site.network)[1]

  # The registry is "host:port"; the node whose address is that host serves it (node-1 in the reference site).
  registry_host = split(":", local.site.registry)[0]

  # The user Multipass creates in Ubuntu images; the operator's key goes to it and Ansible logs in as it.
  user = "ubuntu"

  # Falco and Alloy need more inotify instances and watches than Ubuntu's defaults (cloud-init template).
  inotify_max_user_instances = 8192
  inotify_max_user_watches   = 524288

  # Where the Distribution registry keeps its blobs on the registry node.
  registry_data_dir = "/var/lib/lumen-registry"

  nodes = {
    for n in local.site.nodes : n.name => {
      name     = n.name
      role     = n.role
      ip       = n.ip
      address  = "${n.ip}/${local.prefix_length}"
      cpus     = n.cpus
      memory   = "${n.memoryGiB}GiB"
      disk     = "${n.diskGiB}GiB"
      registry = n.ip == local.registry_host
    }
  }

  registry = {
    address    = local.site.registry
    node       = one([for n in local.nodes : n.name if n.registry])
    plain_http = try(local.site.plainHttp, false)
  }

  cloud_init = {
    for name, n in local.nodes : name => templatefile(var.cloud_init_template, {
      name                       = n.name
      role                       = n.role
      address                    = n.address
      user                       = local.user
      ssh_public_key             = trimspace(file(var.ssh_public_key_file))
      inotify_max_user_instances = local.inotify_max_user_instances
      inotify_max_user_watches   = local.inotify_max_user_watches
      hosts                      = [for h in local.site.nodes : { name = h.name, ip = h.ip }]
      domain                     = local.site.domain
      registry                   = local.site.registry
      registry_data_dir          = n.registry ? local.registry_data_dir : ""
    })
  }
}

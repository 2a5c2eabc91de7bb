# The site's nodes as Multipass VMs. inventory/site.yaml is the single source: names, roles, CPUs, memory, disk
# and addresses all come from it through ./modules/site; nothing here names a size or an address.

module "site" {
  source = "./modules/site"

  site_file           = coalesce(var.site_file, "${path.module}/../../inventory/site.yaml")
  ssh_public_key_file = pathexpand(var.ssh_public_key_file)
  cloud_init_template = "${path.module}/cloud-init/node.yaml.tftpl"
}

# multipass_instance takes cloud-init as a path, so each node's rendered user-data is written next to the
# configuration (ignored by Git). cloud-init reads it at the first boot only: a changed template does not change
# a running VM, and the provider does not replace one for it (`terraform apply -replace=...` does).
resource "local_file" "cloud_init" {
  for_each = module.site.cloud_init

  filename        = "${path.module}/.generated/${each.key}.cloud-init.yaml"
  content         = each.value
  file_permission = "0644"
}

resource "multipass_instance" "node" {
  for_each = module.site.nodes

  name           = each.value.name
  cpus           = each.value.cpus
  memory         = each.value.memory
  disk           = each.value.disk
  image          = var.image
  cloudinit_file = local_file.cloud_init[each.key].filename
}

#include "sim/topology.h"

#include <algorithm>

namespace vfio::sim {

const TopologyDevice* Topology::find(const PciAddress& address) const {
  auto it = std::find_if(devices.begin(), devices.end(),
                         [&](const TopologyDevice& d) { return d.address == address; });
  return it == devices.end() ? nullptr : &*it;
}

const TopologyDriver* Topology::find_driver(std::string_view driver) const {
  auto it = std::find_if(drivers.begin(), drivers.end(),
                         [&](const TopologyDriver& d) { return d.name == driver; });
  return it == drivers.end() ? nullptr : &*it;
}

std::optional<TopologyDevice> make_vf(const TopologyDevice& pf, unsigned index) {
  const long long routing_id = pf.address.routing_id() + pf.vf_template.offset +
                               static_cast<long long>(pf.vf_template.stride) * index;
  if (routing_id > 0xffff) return std::nullopt;
  TopologyDevice vf;
  vf.address = PciAddress::from_routing_id(pf.address.domain(), static_cast<uint16_t>(routing_id));
  vf.parent = pf.parent;
  vf.vendor = pf.vf_template.vendor;
  vf.device = pf.vf_template.device;
  vf.subsystem_vendor = pf.subsystem_vendor;
  vf.subsystem_device = pf.subsystem_device;
  vf.class_code = pf.class_code;
  vf.revision = pf.revision;
  vf.host_driver = pf.vf_template.driver;
  vf.numa_node = pf.numa_node;
  vf.physfn = pf.address;
  return vf;
}

}  // namespace vfio::sim

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

}  // namespace vfio::sim

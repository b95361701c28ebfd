// Whether a NIC carries the host's network: its interfaces (class/net entries below the PCI
// function), their operstate and bond/bridge membership, and the routes and addresses /proc
// gives for them (net/route, net/ipv6_route, net/if_inet6).
//
// IPv4 addresses are not in /proc per interface: each one brings a prefix route on its
// interface ("route to 192.168.1.0/24"), which net/route shows; that is what is reported.
#pragma once

#include <vector>

#include "observe/host_snapshot.h"

namespace vfio {

class KernelFiles;
class Sysfs;

// A NetworkInUse hazard for each PCI function with an interface that is up, carries routes or
// (global) addresses, or is a port of a bridge or bond (whose routes are then named too).
// `proc` may be null: routes and addresses are then not known.
HazardsByDevice find_network_use(Sysfs& sysfs, KernelFiles* proc, std::vector<Finding>& findings);

}  // namespace vfio

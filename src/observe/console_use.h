// Whether a display device drives the text console: a framebuffer below the PCI function
// (class/graphics/fbN) that the framebuffer console maps consoles to, while fbcon is bound to
// the virtual terminals (class/vtconsole/vtconN named "(M) frame buffer device", bind 1).
// fbcon puts every console on fb0 unless the kernel command line maps them elsewhere
// (`fbcon=map:01`, read from /proc/cmdline); another GPU's framebuffer (fb1 of the GPU meant
// for a VM, say) carries no console and is not a hazard. The firmware's boot display
// (boot_vga) is observed with the device itself.
#pragma once

#include <vector>

#include "observe/host_snapshot.h"

namespace vfio {

class KernelFiles;
class Sysfs;

// `proc` may be null: the default map (fb0) is assumed.
HazardsByDevice find_console_use(Sysfs& sysfs, KernelFiles* proc, std::vector<Finding>& findings);

}  // namespace vfio

// KernelSimulator's internal state: devices, the driver registry, the write log and the fault
// plan, plus the two halves of its behaviour: the sysfs namespace (kernel_simulator_namespace.cc)
// and the PCI driver core (kernel_simulator_driver_core.cc). Private to the simulator's sources.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "sim/host_files.h"
#include "sim/kernel_simulator.h"

namespace vfio::sim {

using SimClock = std::chrono::steady_clock;

inline constexpr std::string_view kVfioPci = "vfio-pci";

// The canonical name of a device's real directory (/sys/devices/pci0000:00/.../<bdf>). It holds
// a '/', so no SysPath component can ever spell it.
inline constexpr std::string_view kDeviceDir = "/pcidev";

using Components = std::vector<std::string>;

struct SimDevice {
  TopologyDevice info;  // the hardware; bound_driver and driver_override are not used
  bool present = true;
  std::optional<std::string> driver;          // dev->driver
  std::optional<std::string> override_;       // dev->driver_override; "(null)" is a real name here
  std::optional<std::string> pending_driver;  // a probe that succeeded but is not visible yet
  SimClock::time_point pending_until{};
  unsigned lock_owner = 0;  // write number of a blocked write holding the device lock; 0: free
  bool unbinding = false;   // a blocked unbind already removed the `driver` link
  // M of its VFIO device node vfio<M> while on vfio-pci (kernels that have them): the lowest free
  // when it bound, as vfio_register_group_dev() takes it from an ida; freed when it leaves.
  std::optional<unsigned> vfio_device;
};

// A pci_device_id as written to new_id: "vendor device [subvendor subdevice class class_mask
// driver_data]", missing fields being PCI_ANY_ID (vendor ids) or 0 (class).
struct DynamicId {
  static constexpr uint32_t kAny = 0xffffffff;
  uint32_t vendor = kAny;
  uint32_t device = kAny;
  uint32_t subvendor = kAny;
  uint32_t subdevice = kAny;
  uint32_t class_code = 0;
  uint32_t class_mask = 0;
};

struct SimDriver {
  TopologyDriver info;
  bool registered = true;
  std::vector<DynamicId> dynamic_ids;
};

// One node of the sysfs tree, as lookup() finds it.
struct Node {
  enum class Kind { Missing, Dir, File, Link };
  Kind kind = Kind::Missing;
  std::vector<std::string> entries;    // Dir
  std::optional<std::string> content;  // File: none when write-only (mode 0200)
  bool writable = false;               // File
  std::string link_text;               // Link: as readlink(2) returns it
  Components target;                   // Link: the canonical path it leads to
};

struct Resolved {
  Components canonical;
  Node node;
};

struct PlannedFault {
  std::string path;
  unsigned nth = 0;
  int error = 0;                          // fail_write
  std::chrono::milliseconds duration{0};  // block_write
};

struct KernelSimulator::State {
  explicit State(Topology topology);

  // --- the world ---
  Topology meta;  // name, description, iommu, iommu_units, the initial vfio_pci state
  std::map<PciAddress, SimDevice> devices;  // removed devices stay here with present = false
  std::vector<SimDriver> drivers;           // registry order; vfio-pci always has an entry
  bool autoprobe = true;

  // --- the record and the fault plan ---
  std::vector<WriteRecord> log;
  unsigned write_count = 0;
  std::map<std::string, unsigned> writes_per_path;
  std::vector<PlannedFault> failures;
  std::vector<PlannedFault> blocks;
  std::map<std::pair<PciAddress, std::string>, int> probe_failures;
  // limit_probes(): a driver's successful probes since it was loaded, and how many it allows.
  std::map<std::string, unsigned> probe_limits;
  std::map<std::string, unsigned> probes_done;
  std::chrono::milliseconds probe_latency{0};
  std::map<PciAddress, unsigned> vanish;
  std::map<PciAddress, PciAddress> remove_on_vfio_bind;  // trigger -> victim
  std::set<PciAddress> reprobe_on_unbind;
  std::optional<unsigned> crash_at;
  std::function<void()> on_crash;  // runs in the instant of the crash, under the mutex
  bool frozen = false;             // the writing process crashed: its writes do not land
  std::condition_variable device_unlocked;
  std::condition_variable processes_changed;  // start_process, end_process
  // The rest of each write whose caller timed out, still in the kernel; ~KernelSimulator joins
  // them.
  std::vector<std::thread> in_kernel;

  // --- kernel_simulator.cc ---
  void settle();                    // makes pending probes whose latency has passed visible
  void number_vfio_devices();       // gives devices that came to vfio-pci a node, takes others
  void touch(const SysPath& path);  // counts a call against vanish_after()
  // Write number `number` (the nth to `path`) as the kernel makes it, waiting out the device
  // lock of a blocked write and a planned block; its errno, 0 when it acted. `lock` holds the
  // simulator's mutex and is released while waiting. With a deadline, the caller stops waiting
  // there with ETIMEDOUT and the rest of the write goes on in `in_kernel`.
  int store(std::unique_lock<std::mutex>& lock, const SysPath& path, const std::string& value,
            unsigned number, unsigned nth, std::optional<SimClock::time_point> deadline);
  // A process holds `device`'s group with a device fd: its unbind from vfio-pci would block.
  bool held_by_process(const SimDevice& device) const;
  // A blocked write's end: it acts, then releases the device lock it took (if any).
  int finish_blocked_write(const Components& canonical, std::string_view value, SimDevice* locked);

  // --- kernel_simulator_namespace.cc: the sysfs tree ---
  Node lookup(const Components& canonical) const;
  Node lookup_device(const Components& c) const;
  Node lookup_bus(const Components& c) const;
  Node lookup_iommu_groups(const Components& c) const;
  Node lookup_class(const Components& c) const;
  Node lookup_module(const Components& c) const;
  // Walks `path`, following links in the middle (and at the end when `follow_last`); the errno
  // on failure.
  std::variant<Resolved, int> resolve(const Components& path, bool follow_last) const;
  std::string device_sys_path(const SimDevice& device) const;  // devices/pci0000:00/.../<bdf>
  // The wider host now (host_files.h): only devices with interfaces, disks or a framebuffer.
  HostFiles host_files_now(const SimDevice* only = nullptr) const;
  // Groups with a /dev/vfio node: a device on vfio-pci, or one whose unbind from it is blocked.
  std::set<unsigned> vfio_nodes() const;

  // --- kernel_simulator_driver_core.cc: the PCI core's semantics ---
  SimDevice* present_device(std::string_view bdf);
  const SimDevice* present_device(std::string_view bdf) const;
  SimDevice* device_named(std::string_view written);  // bus_find_device_by_name + sysfs_streq
  SimDriver* registered_driver(std::string_view name);
  const SimDriver* registered_driver(std::string_view name) const;
  SimDriver& vfio_pci();
  // Bound to vfio-pci or a vfio variant driver: its group has a /dev/vfio node.
  bool on_vfio_driver(const SimDevice& device) const;
  std::optional<unsigned> group_of(const SimDevice& device) const;
  std::optional<std::string> visible_driver(const SimDevice& device) const;  // the `driver` link
  bool multifunction(const SimDevice& device) const;
  unsigned enabled_vfs(const SimDevice& device) const;
  std::vector<const SimDevice*> vfs_of(const SimDevice& pf) const;
  TopologyDevice current(const SimDevice& device) const;  // info with live driver and override

  bool matches(const SimDevice& device, const SimDriver& driver) const;  // pci_bus_match
  int probe(SimDevice& device, const SimDriver& driver);                 // 0: bound
  void attach(SimDevice& device);                                        // device_attach
  void attach_all(const SimDriver& driver);                              // driver_attach

  int write_override(SimDevice& device, std::string_view value);
  int drivers_probe(std::string_view value);
  int bind(const SimDriver& driver, std::string_view value);
  int unbind(const SimDriver& driver, std::string_view value);
  int new_id(SimDriver& driver, std::string_view value);
  int remove_id(SimDriver& driver, std::string_view value);
  void remove(SimDevice& device);
  void rescan(const std::optional<PciAddress>& below);
  SimDriver* driver_entry(std::string_view name);  // registered or not
  void load_driver(SimDriver& driver);
  void unload_driver(SimDriver& driver);
  void load_vfio_pci();
  void unload_vfio_pci();

  // --- kernel_simulator_sriov.cc: SR-IOV ---
  bool may_probe(const SimDevice& device) const;  // pci_device_can_probe
  unsigned lowest_free_group() const;             // the number a new IOMMU group gets
  int write_numvfs(SimDevice& pf, std::string_view value);
  int write_vf_autoprobe(SimDevice& pf, std::string_view value);

  // A write to a canonical path that resolve() found; `opened`: the file was opened before (a
  // blocked write), so a device that went away meanwhile gives ENODEV rather than ENOENT.
  int apply_write(const Components& canonical, std::string_view value, bool opened);
  // The device whose lock a write to `canonical` would take, if any.
  SimDevice* write_target(const Components& canonical, std::string_view value);
};

}  // namespace vfio::sim

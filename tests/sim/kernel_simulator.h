// KernelSimulator: the Sysfs gateway in memory, with the Linux PCI core's semantics.
//
// It behaves as docs/kernel-pci-sysfs.md says the kernel does (driver_override,
// unbind, drivers_probe, bind, new_id, vfio-pci's refusals, /dev/vfio/N), records every write
// with its result, and injects faults so that rollback and recovery can be proven. Where it and
// the real kernel disagree, the kernel is right: fix the simulator and add the fact to its tests.
//
// Paths are displayed as "/sys/<path>". All calls are thread-safe; a blocked write sleeps
// without holding the simulator's lock, so other devices are not stalled by it. With a write
// timeout set (Sysfs::set_write_timeout), a write still in the kernel when its caller's timeout
// runs out returns ETIMEDOUT and carries on in a thread of the simulator's, as RealSysfs leaves it
// to a process of its own; the destructor waits for those threads to finish.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sim/topology.h"
#include "sysfs/sysfs.h"

namespace vfio::sim {

struct WriteRecord {
  SysPath path;
  std::string value;
  int error = 0;  // 0: the write succeeded

  // The device it acts on: named by the path (driver_override, remove) or written as the value
  // (unbind, bind, drivers_probe). None for a bus-wide write (rescan, new_id).
  std::optional<PciAddress> device() const;
};

class KernelSimulator final : public Sysfs {
 public:
  explicit KernelSimulator(Topology topology);
  ~KernelSimulator() override;

  // --- the gateway ---
  Result<std::string> read(const SysPath& path, std::size_t max_bytes = kDefaultReadLimit) override;
  Result<std::string> read_link(const SysPath& path) override;
  Result<std::vector<std::string>> list(const SysPath& dir) override;
  Result<void> write(const SysPath& path, std::string_view value) override;
  std::string display(const SysPath& path) const override;

  // --- what tests look at ---
  Topology topology() const;  // the current state (bindings, overrides, removed devices gone)
  // Every driver the kernel has, registered or not (a module on disk that modprobe may load).
  std::vector<TopologyDriver> all_drivers() const;
  std::optional<std::string> driver_of(const PciAddress& address) const;
  std::optional<std::string> override_of(const PciAddress& address) const;
  bool present(const PciAddress& address) const;
  std::set<unsigned> vfio_group_nodes() const;  // the /dev/vfio/N that exist now
  bool group_viable(unsigned group) const;      // VFIO_GROUP_GET_STATUS would say viable
  std::vector<WriteRecord> writes() const;      // every write, in order, with its result
  std::size_t successful_write_count() const;

  // --- the world changing under the tool ---
  void load_vfio_pci();    // registers drivers/vfio-pci (as modprobe vfio-pci would)
  void unload_vfio_pci();  // unbinds its devices (they stay driverless) and unregisters it
  // The same for any driver of the topology (rmmod / modprobe its module); false: no such driver.
  bool unload_driver(const std::string& name);
  bool load_driver(const std::string& name);
  void remove_device(const PciAddress& address);  // as writing 1 to its `remove`
  void rescan();                                  // as writing 1 to bus/pci/rescan

  // --- faults ---
  // The nth (1-based) write to `path` fails with `error` and changes nothing.
  void fail_write(const SysPath& path, unsigned nth, int error);
  // The nth write to `path` sleeps `duration` (without the lock), then acts normally. An unbind
  // (or a `remove`) of a bound device holds the device lock and has no `driver` link meanwhile.
  //
  // When the caller's write timeout runs out first, the caller gets ETIMEDOUT then (writes()
  // logs ETIMEDOUT: what the caller saw), while the write stays in the kernel for the whole
  // `duration`, device lock held, and then acts. Until it does, reading that device's
  // driver_override blocks (reads have no timeout, in the kernel as through RealSysfs), and a
  // write to the device waits for the lock until it too times out, and acts after the unbind.
  // So after a write times out, leave its device alone for the rest of the run.
  void block_write(const SysPath& path, unsigned nth, std::chrono::milliseconds duration);
  // Waits until every write whose caller timed out has finished in the kernel (its block ended).
  void wait_for_blocked_writes();
  // Probes (drivers_probe, bind, new_id, rescan) bind after `latency`: the `driver` link appears
  // only once it has passed (asynchronous probing), so a caller that checks once is caught out.
  void set_probe_latency(std::chrono::milliseconds latency);
  // `driver` refuses to bind `address` with `error` (bind returns it; drivers_probe succeeds).
  void fail_probe(const PciAddress& address, const std::string& driver, int error);
  // `driver` binds at most `probes` devices per load and then refuses every one with ENODEV,
  // saying nothing: ALSA's PCI drivers count probes in a static counter that never goes down
  // (`if (dev >= SNDRV_CARDS) return -ENODEV; ... dev++;`, SNDRV_CARDS 32). The devices bound
  // to it now count as probed (at boot); loading the driver again starts the count anew.
  void limit_probes(const std::string& driver, unsigned probes);
  // After `operations` more gateway calls that touch the device's own paths, it is removed.
  void vanish_after(const PciAddress& address, unsigned operations);
  // The moment `trigger` binds to vfio-pci, `victim` is removed (as a uevent listener writing to
  // its `remove` would; the real-kernel suite does exactly that in the guest).
  void remove_on_vfio_bind(const PciAddress& trigger, const PciAddress& victim);
  // The moment `address` is next unbound from any driver, it is probed again (as a hotplug agent
  // writing it to drivers_probe would): its driver_override at that moment decides who takes it.
  void reprobe_on_unbind(const PciAddress& address);
  // A process (a VM) starts holding VFIO nodes, or ends (the topology's host.processes, which
  // /proc shows through host_files.h). While a process holds a group with a device fd, an unbind
  // or `remove` of that group's devices on vfio-pci blocks until it ends, as a real kernel's
  // vfio-pci waits for the user to let go ("A device in use by a VM"); a group fd alone blocks
  // nothing. ~KernelSimulator ends every process first, so no write waits for ever.
  void start_process(TopologyProcess process);
  void end_process(unsigned pid);
  // A simulated crash of the process that writes: write number k (1-based, counting every
  // write) takes effect, then the kernel is frozen for that process and `also` runs, in that
  // instant (to freeze the store with it: sim/memory_store.h). Nothing unwinds through the code
  // under test: it goes on, but none of its later writes reaches the kernel (each is answered
  // EIO and not logged), as none of a dead process's would.
  void crash_after_write(unsigned k, std::function<void()> also = {});
  // Freezes now (as at a crash point).
  void freeze();
  bool frozen() const;
  // The dead process is gone; the next run's writes land again.
  void thaw();

 private:
  struct State;
  mutable std::mutex mutex_;
  std::unique_ptr<State> state_;
};

}  // namespace vfio::sim

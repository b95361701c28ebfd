// The one gateway through which vfio-reconcile touches the kernel, in two parts:
//
// - KernelFiles: reading a tree of kernel files - reads, link reads, listings. /proc is reached
//   through this alone (--proc-root), so nothing can write there.
// - Sysfs: KernelFiles plus write(2), for /sys.
//
// Every read, link read, directory listing and write goes through these. Production uses
// RealSysfs (a directory tree: /sys by default, and /proc); tests use the kernel simulator,
// which implements the same calls with the PCI core's semantics and can inject faults.
//
// read(), read_link(), list() and display() may be called from several threads at once:
// observe() reads the devices of a large host in parallel. RealSysfs keeps no shared state and
// the simulator takes its mutex.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "sysfs/sys_path.h"
#include "util/result.h"

namespace vfio {

class KernelFiles {
 public:
  // Attributes are short text; `config` is up to 4 KiB of binary that we only need the start of.
  static constexpr std::size_t kDefaultReadLimit = 4096;

  virtual ~KernelFiles() = default;

  // The attribute's bytes as the kernel returns them (text keeps its trailing newline).
  virtual Result<std::string> read(const SysPath& path,
                                   std::size_t max_bytes = kDefaultReadLimit) = 0;

  // The target of a symbolic link, as stored ("../../../bus/pci/drivers/e1000e").
  virtual Result<std::string> read_link(const SysPath& path) = 0;

  // The names in a directory, in no particular order.
  virtual Result<std::vector<std::string>> list(const SysPath& dir) = 0;

  // How a person would name the file, for messages ("/sys/bus/pci/drivers_probe").
  virtual std::string display(const SysPath& path) const = 0;
};

class Sysfs : public KernelFiles {
 public:
  // Exactly one write(2) of `value`: the kernel acts on each write call separately, so a value
  // must never be split or retried behind the caller's back.
  virtual Result<void> write(const SysPath& path, std::string_view value) = 0;

  // Whether this process may write `path` at all (its mode, the file system), asked without
  // writing: so that a run without the rights fails before its first write rather than group by
  // group. The default (the simulator) allows every write.
  virtual Result<void> may_write(const SysPath& path) {
    (void)path;
    return {};
  }

  // How long write() waits for the kernel before it gives up with ETIMEDOUT. A store can sleep
  // in the kernel for as long as somebody else likes (a driver's remove() waiting for a VM to
  // let go of the device, uninterruptibly): the write is then left to finish where it cannot
  // stall the caller, or the process's exit, and may still take effect later. Zero, the
  // default: wait as long as it takes. (Virtual: a gateway that wraps another passes it on.)
  virtual void set_write_timeout(std::chrono::milliseconds timeout) {
    write_timeout_ms_ = timeout.count();
  }
  std::chrono::milliseconds write_timeout() const {
    return std::chrono::milliseconds(write_timeout_ms_.load());
  }

 private:
  std::atomic<std::chrono::milliseconds::rep> write_timeout_ms_{0};
};

}  // namespace vfio

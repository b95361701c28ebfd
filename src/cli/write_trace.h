// -v: each sysfs write as it is made, with its value, its result, how long it took and when.
// A gateway that wraps the run's own (the real /sys or the simulator) and passes every call on;
// writes are logged at info level, so they show with -v and in the journal of a verbose unit.
#pragma once

#include "sysfs/sysfs.h"

namespace vfio::cli {

class WriteTracingSysfs final : public Sysfs {
 public:
  explicit WriteTracingSysfs(Sysfs& inner) : inner_(inner) {}

  Result<std::string> read(const SysPath& path, std::size_t max_bytes) override {
    return inner_.read(path, max_bytes);
  }
  Result<std::string> read_link(const SysPath& path) override { return inner_.read_link(path); }
  Result<std::vector<std::string>> list(const SysPath& dir) override { return inner_.list(dir); }
  std::string display(const SysPath& path) const override { return inner_.display(path); }
  Result<void> may_write(const SysPath& path) override { return inner_.may_write(path); }
  void set_write_timeout(std::chrono::milliseconds timeout) override;

  // "write 'vfio-pci' to /sys/bus/pci/devices/0000:01:00.0/driver_override: ok in 0.1 ms
  // (06:12:01.234)"; a failure names its errno as every message does.
  Result<void> write(const SysPath& path, std::string_view value) override;

 private:
  Sysfs& inner_;
};

}  // namespace vfio::cli

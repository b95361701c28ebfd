// RealSysfs: the gateway over a directory tree, the live /sys or an on-disk test host.
#pragma once

#include <string>

#include <boost/filesystem/path.hpp>

#include "sysfs/sysfs.h"

namespace vfio {

// Stateless as far as callers can tell, and safe to use from several threads at once: each
// thread keeps the directory it last read in open (see real_sysfs.cc), nothing else. With a
// write timeout set, each write(2) is made by a process of its own (see write_detached in
// real_sysfs.cc), which is never a child left for us to reap and holds none of our descriptors.
class RealSysfs final : public Sysfs {
 public:
  explicit RealSysfs(boost::filesystem::path root = "/sys");

  Result<std::string> read(const SysPath& path, std::size_t max_bytes = kDefaultReadLimit) override;
  Result<std::string> read_link(const SysPath& path) override;
  Result<std::vector<std::string>> list(const SysPath& dir) override;
  Result<void> write(const SysPath& path, std::string_view value) override;
  Result<void> may_write(const SysPath& path) override;  // faccessat(W_OK, AT_EACCESS)
  std::string display(const SysPath& path) const override;

  const boost::filesystem::path& root() const { return root_; }

 private:
  boost::filesystem::path resolve(const SysPath& path) const;

  boost::filesystem::path root_;
  std::string root_string_;
};

}  // namespace vfio

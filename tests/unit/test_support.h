// What every test suite needs and should not write again: scratch directories and files, the
// example hosts, and a substring check.
#pragma once

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <boost/filesystem.hpp>

#include "observe/device_names.h"
#include "observe/host_snapshot.h"
#include "sim/sysfs_tree_writer.h"
#include "sim/topology.h"
#include "sim/topology_yaml.h"
#include "store/store.h"
#include "sysfs/pci_address.h"
#include "sysfs/real_sysfs.h"

namespace vfio::test {

namespace fs = boost::filesystem;

// A fresh directory under the system's temporary directory, removed with its contents at the
// end. The path is canonical, so tests can compare it with paths the code under test resolves.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& stem = "vfio-test")
      : path_(fs::temp_directory_path() / fs::unique_path(stem + "-%%%%-%%%%-%%%%")) {
    fs::create_directories(path_);
    path_ = fs::canonical(path_);
  }
  ~ScratchDir() {
    boost::system::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const fs::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

  // Writes `bytes` to `name` in the directory; returns the file's path.
  std::string write(const std::string& name, const std::string& bytes) const {
    const fs::path file = path_ / name;
    std::ofstream(file.string(), std::ios::binary) << bytes;
    return file.string();
  }

 private:
  fs::path path_;
};

// One file holding `bytes`, in a scratch directory of its own.
class ScratchFile {
 public:
  explicit ScratchFile(const std::string& bytes, const std::string& name = "file")
      : dir_("vfio-test-file"), path_(dir_.write(name, bytes)) {}
  const std::string& path() const { return path_; }

 private:
  ScratchDir dir_;
  std::string path_;
};

inline fs::path source_dir() {
  return fs::path(VFIO_SOURCE_DIR);
}

// examples/hosts/*.yaml, in name order.
inline std::vector<fs::path> example_host_files() {
  std::vector<fs::path> files;
  for (fs::directory_iterator it(source_dir() / "examples/hosts"), end; it != end; ++it) {
    if (it->path().extension() == ".yaml") files.push_back(it->path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Each example manifest (examples/*.yaml, in name order) with the host its
// `# example-host: NAME` line names.
inline std::vector<std::pair<fs::path, std::string>> example_manifests() {
  std::vector<std::pair<fs::path, std::string>> out;
  for (fs::directory_iterator it(source_dir() / "examples"), end; it != end; ++it) {
    if (it->path().extension() != ".yaml") continue;
    std::ifstream in(it->path().string());
    const std::string marker = "# example-host: ";
    for (std::string line; std::getline(in, line);) {
      if (line.rfind(marker, 0) == 0) out.emplace_back(it->path(), line.substr(marker.size()));
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Names the tests give devices by vendor:device, as pci.ids would.
class FixedNames final : public DeviceNames {
 public:
  using Entry = std::pair<const std::pair<uint16_t, uint16_t>, PciNames>;
  FixedNames(std::initializer_list<Entry> names = {}) : names_(names) {}
  PciNames lookup(const PciIds& ids) const override {
    auto it = names_.find({ids.vendor, ids.device});
    return it == names_.end() ? PciNames{} : it->second;
  }

 private:
  std::map<std::pair<uint16_t, uint16_t>, PciNames> names_;
};

// The example host examples/hosts/<name>.yaml.
inline sim::Topology example_host(const std::string& name) {
  return sim::load_topology((source_dir() / "examples/hosts" / (name + ".yaml")).string());
}

// A topology laid out on disk as a sysfs tree and a /proc tree, with a gateway over each (as
// --sysfs-root and --proc-root give the real binary).
struct DiskHost {
  explicit DiskHost(const sim::Topology& t) : sys_dir("host-sys"), proc_dir("host-proc") {
    sim::write_sysfs_tree(t, sys_dir.path());
    sim::write_proc_tree(t, proc_dir.path());
  }
  fs::path proc_path(const std::string& rel) const { return proc_dir.path() / rel; }
  ScratchDir sys_dir, proc_dir;
  RealSysfs sys{sys_dir.path()};
  RealSysfs proc{proc_dir.path()};
};

// An address the test knows is well formed ("0000:01:00.0").
inline PciAddress addr(std::string_view text) {
  return *PciAddress::parse(text);
}

// The file system as the tool's store; stateless, so one serves every test.
inline Store& disk() {
  static RealStore store;
  return store;
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A device's hazards as "<kind>: <detail>" lines ("held-open: in use by pid 4242 ..."), or
// one line saying it was not observed.
inline std::vector<std::string> hazard_lines(const HostSnapshot& s, const PciAddress& address) {
  const PciDevice* d = s.find(address);
  if (!d) return {address.str() + " not observed"};
  std::vector<std::string> out;
  for (const auto& h : d->hazards) out.push_back(std::string(to_string(h.kind)) + ": " + h.detail);
  return out;
}

}  // namespace vfio::test

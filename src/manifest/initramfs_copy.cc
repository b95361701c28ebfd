#include "manifest/initramfs_copy.h"

#include <map>

#include <fmt/format.h>
#include <boost/filesystem/path.hpp>

#include "manifest/load_manifests.h"
#include "store/store.h"

namespace vfio {
namespace {

// A directory's manifests by their name below it ("manifest.yaml", "manifest.d/gpu.yaml"),
// with their bytes (none when unreadable: then they differ from anything).
std::map<std::string, std::optional<std::string>> manifests_below(Store& store,
                                                                  const std::string& dir) {
  std::map<std::string, std::optional<std::string>> found;
  for (const auto& path : config_dir_manifests(store, dir)) {
    auto bytes = store.read(path);
    found[boost::filesystem::path(path).lexically_relative(dir).string()] =
        bytes ? std::optional<std::string>(*bytes) : std::nullopt;
  }
  return found;
}

}  // namespace

std::vector<std::string> initramfs_copy_differences(Store& store, const std::string& config_dir,
                                                    const std::string& copy_dir) {
  std::vector<std::string> differences;
  auto copy = store.stat(copy_dir);
  if (!copy || copy->kind != EntryKind::Directory) return differences;
  const auto now = manifests_below(store, config_dir);
  const auto copied = manifests_below(store, copy_dir);
  for (const auto& [name, bytes] : now) {
    auto it = copied.find(name);
    if (it == copied.end())
      differences.push_back(fmt::format("{} is not in it", name));
    else if (!bytes || it->second != bytes)
      differences.push_back(fmt::format("{} differs", name));
  }
  for (const auto& [name, bytes] : copied) {
    if (!now.count(name)) differences.push_back(fmt::format("{} is only in it", name));
  }
  return differences;
}

}  // namespace vfio

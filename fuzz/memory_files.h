// A tree of kernel files held in memory: what a fuzz target serves its input through, in place
// of /proc, and a copy of an on-disk sysfs tree (fast to read a million times). Directories are
// implied by the files and links below them. Nothing can be written.
#pragma once

#include <cerrno>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <boost/filesystem/operations.hpp>

#include "sysfs/sysfs.h"
#include "util/result.h"

namespace vfio::fuzz {

class MemoryFiles final : public Sysfs {
 public:
  // `path` relative to the root, '/'-separated ("net/route"); its components must be valid.
  void file(const std::string& path, std::string bytes) { files_[path] = std::move(bytes); }
  void link(const std::string& path, std::string target) { links_[path] = std::move(target); }

  Result<std::string> read(const SysPath& path, std::size_t max_bytes) override {
    auto it = files_.find(path.str());
    if (it == files_.end()) return missing(IoError::Op::Read, path);
    return it->second.substr(0, max_bytes);
  }
  Result<std::string> read_link(const SysPath& path) override {
    auto it = links_.find(path.str());
    if (it == links_.end()) return missing(IoError::Op::ReadLink, path);
    return it->second;
  }
  Result<std::vector<std::string>> list(const SysPath& dir) override {
    const std::string prefix = dir.empty() ? "" : dir.str() + "/";
    std::set<std::string> names;
    auto add_below = [&](const auto& entries) {
      for (auto it = entries.lower_bound(prefix);
           it != entries.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
        const std::string& key = it->first;
        if (key.size() > prefix.size())
          names.insert(key.substr(prefix.size(), key.find('/', prefix.size()) - prefix.size()));
      }
    };
    add_below(files_);
    add_below(links_);
    if (names.empty()) return missing(IoError::Op::List, dir);
    return std::vector<std::string>(names.begin(), names.end());
  }
  Result<void> write(const SysPath& path, std::string_view) override {
    return IoError{IoError::Op::Write, display(path), EROFS, {}};
  }
  std::string display(const SysPath& path) const override { return root_ + path.str(); }

  // How paths are shown: "/proc/" (the default), "/sys/".
  void show_as(std::string root) { root_ = std::move(root); }

  // Every file and link below `dir` on disk, as the same relative paths.
  void load_tree(const boost::filesystem::path& dir) {
    namespace fs = boost::filesystem;
    for (fs::recursive_directory_iterator it(dir, fs::directory_options::none), end; it != end;
         ++it) {
      const std::string rel = it->path().lexically_relative(dir).generic_string();
      if (fs::is_symlink(it->symlink_status())) {
        links_[rel] = fs::read_symlink(it->path()).string();
        it.disable_recursion_pending();
      } else if (fs::is_regular_file(it->status())) {
        std::ifstream in(it->path().string(), std::ios::binary);
        files_[rel].assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      }
    }
  }

 private:
  IoError missing(IoError::Op op, const SysPath& path) const {
    return IoError{op, display(path), ENOENT, {}};
  }
  std::map<std::string, std::string> files_;
  std::map<std::string, std::string> links_;
  std::string root_ = "/proc/";
};

// The input cut at each NUL byte, into at most `count` parts (the last keeps any further NULs);
// missing parts are empty.
inline std::vector<std::string> split_input(const uint8_t* data, std::size_t size,
                                            std::size_t count) {
  std::vector<std::string> parts(count);
  std::size_t part = 0;
  for (std::size_t i = 0; i < size; ++i) {
    const char c = static_cast<char>(data[i]);
    if (c == '\0' && part + 1 < count) {
      ++part;
      continue;
    }
    parts[part] += c;
  }
  return parts;
}

}  // namespace vfio::fuzz

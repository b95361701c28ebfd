#include "store/state_file.h"

#include <cerrno>
#include <random>
#include <vector>

#include <fmt/format.h>

namespace vfio {
namespace {

// Two writers that picked the same random name would share a file: create fails with EEXIST
// (O_EXCL) and the next name is tried.
constexpr int kCreateAttempts = 100;

Store::Path directory_of(const Store::Path& path) {
  return path.has_parent_path() ? path.parent_path() : Store::Path(".");
}

// A dot file, so a person listing the directory does not take a leftover for the real thing.
Store::Path temporary_name(const Store::Path& file) {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  return directory_of(file) / fmt::format(".{}.tmp-{:016x}", file.filename().string(), random());
}

}  // namespace

Result<void> replace_file_atomically(Store& store, const Store::Path& file, std::string_view bytes,
                                     mode_t mode) {
  Store::Path temp;
  for (int attempt = 1;; ++attempt) {
    temp = temporary_name(file);
    auto created = store.create(temp, bytes, mode);
    if (created) break;
    if (created.error().error != EEXIST || attempt == kCreateAttempts) return created;
  }
  auto discard = [&](const IoError& error) -> Result<void> {
    (void)store.remove(temp);  // best effort: the error that matters is `error`
    return error;
  };
  if (auto synced = store.sync_file(temp); !synced) return discard(synced.error());
  if (auto renamed = store.rename(temp, file, true); !renamed) return discard(renamed.error());
  return store.sync_dir(directory_of(file));
}

Result<void> make_dirs(Store& store, const Store::Path& dir, mode_t mode) {
  std::vector<Store::Path> missing;
  for (Store::Path p = dir; !p.empty(); p = p.parent_path()) {
    auto entry = store.stat(p);
    if (!entry) return entry.error();
    if (entry->kind == EntryKind::Directory) break;
    if (entry->kind != EntryKind::Missing) {
      return IoError{IoError::Op::Stat, p.string(), ENOTDIR, {}};
    }
    missing.push_back(p);
    if (p == p.root_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    auto made = store.make_dir(*it, mode);
    if (!made && made.error().error != EEXIST) return made;
  }
  auto entry = store.stat(dir);
  if (!entry) return entry.error();
  if (entry->kind != EntryKind::Directory) {
    return IoError{IoError::Op::Stat, dir.string(), ENOTDIR, {}};
  }
  return {};
}

}  // namespace vfio

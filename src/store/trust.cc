#include "store/trust.h"

#include <sys/stat.h>

#include <fmt/format.h>
#include <boost/filesystem/operations.hpp>

namespace vfio {
namespace {

namespace fs = boost::filesystem;

std::optional<Untrusted> judge(const std::string& path, const Entry& entry, uid_t trusted,
                               mode_t forbidden, bool above) {
  Untrusted u{path, entry.owner, entry.mode, {}, {}};
  if (entry.owner != 0 && entry.owner != trusted) {
    u.why = fmt::format("is owned by uid {}, not root", entry.owner);
    u.fix = fmt::format("chown root: {}", path);
    return u;
  }
  // A sticky directory above lets nobody else replace the entries it holds.
  if (above && entry.kind == EntryKind::Directory && (entry.mode & S_ISVTX) && entry.owner == 0) {
    return std::nullopt;
  }
  const mode_t bad = entry.mode & forbidden;
  if (!bad) return std::nullopt;
  if (bad & S_IWOTH) {
    u.why = "is writable by anyone";
  } else if (bad & S_IWGRP) {
    u.why = "is writable by its group";
  } else {
    u.why = "may be used by users other than its owner";
  }
  u.fix = fmt::format("chmod {} {}", forbidden == (S_IWGRP | S_IWOTH) ? "go-w" : "go=", path);
  return u;
}

// The directories above `path`, nearest first, up to the root.
Result<std::optional<Untrusted>> check_above(Store& store, const fs::path& path, uid_t trusted) {
  for (fs::path dir = path.parent_path(); !dir.empty(); dir = dir.parent_path()) {
    auto entry = store.stat(dir);
    if (!entry) return entry.error();
    if (entry->kind != EntryKind::Missing) {
      if (auto u = judge(dir.string(), *entry, trusted, S_IWGRP | S_IWOTH, true)) return u;
    }
    if (dir == dir.root_path()) break;
  }
  return std::optional<Untrusted>{};
}

// `path` itself with the permissions it must not give (`forbidden`), then the directories above.
Result<std::optional<Untrusted>> judge_path(Store& store, const Store::Path& path, uid_t trusted,
                                            mode_t forbidden) {
  const fs::path full = fs::absolute(path);
  auto entry = store.stat(full);
  if (!entry) return entry.error();
  if (entry->kind != EntryKind::Missing) {
    if (auto u = judge(full.string(), *entry, trusted, forbidden, false)) return u;
  }
  return check_above(store, full, trusted);
}

}  // namespace

std::string Untrusted::str() const {
  return fmt::format("{} (owner uid {}, mode {:04o}) {}", path, owner, mode, why);
}

Result<std::optional<Untrusted>> only_root_can_change(Store& store, const Store::Path& path,
                                                      uid_t trusted) {
  return judge_path(store, path, trusted, S_IWGRP | S_IWOTH);
}

Result<std::optional<Untrusted>> private_directory(Store& store, const Store::Path& dir,
                                                   uid_t trusted) {
  return judge_path(store, dir, trusted, S_IRWXG | S_IRWXO);
}

}  // namespace vfio

#include "apply/ownership_journal.h"

#include <cerrno>
#include <ctime>
#include <stdexcept>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "apply/ownership_json.h"
#include "store/state_file.h"
#include "sysfs/sys_path.h"
#include "util/result.h"
#include "util/text_fields.h"

namespace vfio {
namespace fs = boost::filesystem;

namespace {

std::string utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[sizeof "20240131T235959Z"];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

}  // namespace

OwnershipJournal::OwnershipJournal(Store& store, fs::path state_dir, std::string boot_id)
    : store_(store), state_dir_(std::move(state_dir)), boot_id_(std::move(boot_id)) {}

fs::path OwnershipJournal::file() const {
  return state_dir_ / "ownership.json";
}

LoadedRecord OwnershipJournal::load() const {
  const std::string path = file().string();
  auto bytes = store_.read(file());
  if (!bytes) {
    const int error = bytes.error().error;
    if (error == ENOENT) return {};
    // Not moved aside: a file we cannot read may still be good, and is not ours to lose.
    LoadedRecord out;
    out.read_error = error;
    out.problems.push_back(
        fmt::format("{}: cannot be read: {}: ignoring it; this run owns nothing it bound earlier",
                    path, describe_errno(error)));
    return out;
  }
  return decode_ownership(*bytes, path, boot_id_);
}

void OwnershipJournal::keep_aside(const std::string& reason) const {
  if (!SysPath::is_valid_component(reason)) {
    throw std::invalid_argument(
        fmt::format("keep_aside: reason '{}' cannot be in a file name", reason));
  }
  const fs::path from = file();
  const std::string base = fmt::format("{}.{}-{}", from.string(), reason, utc_timestamp());
  for (unsigned n = 0;; ++n) {
    const fs::path to = n == 0 ? fs::path(base) : fs::path(fmt::format("{}-{}", base, n));
    auto renamed = store_.rename(from, to, /*replace=*/false);
    if (renamed) break;
    const int error = renamed.error().error;
    if (error == ENOENT) return;  // nothing to keep
    // Far more than one run a second could make; past that something else is wrong.
    if (error == EEXIST && n < 1000) continue;
    throw StateDirError("cannot keep the ownership record aside", renamed.error());
  }
  if (auto synced = store_.sync_dir(state_dir_); !synced) {
    throw StateDirError("cannot keep the ownership record aside", synced.error());
  }
}

void OwnershipJournal::keep_copy_aside(const std::string& reason) const {
  if (!SysPath::is_valid_component(reason)) {
    throw std::invalid_argument(
        fmt::format("keep_copy_aside: reason '{}' cannot be in a file name", reason));
  }
  auto bytes = store_.read(file());
  if (!bytes) {
    if (bytes.error().error == ENOENT) return;
    throw StateDirError("cannot copy the ownership record aside", bytes.error());
  }
  const std::string base = fmt::format("{}.{}-{}", file().string(), reason, utc_timestamp());
  for (unsigned n = 0; n < 1000; ++n) {
    const fs::path to = n == 0 ? fs::path(base) : fs::path(fmt::format("{}-{}", base, n));
    auto entry = store_.stat(to, Links::DoNotFollow);
    if (!entry) throw StateDirError("cannot copy the ownership record aside", entry.error());
    if (entry->kind != EntryKind::Missing) continue;
    if (auto saved = replace_file_atomically(store_, to, *bytes, 0644); !saved) {
      throw StateDirError("cannot copy the ownership record aside", saved.error());
    }
    return;
  }
  throw StateDirError("cannot copy the ownership record aside",
                      IoError{IoError::Op::Create, base, EEXIST, {}});
}

void OwnershipJournal::save(const OwnershipRecord& record) const {
  auto saved = replace_file_atomically(store_, file(), encode_ownership(record, boot_id_), 0644);
  if (!saved) {
    throw StateDirError(fmt::format("cannot save the ownership record {}", file().string()),
                        saved.error());
  }
}

void ensure_state_dir(Store& store, const fs::path& state_dir) {
  // Private, as the boot unit's RuntimeDirectoryMode makes it: another user who could write here
  // could forge the record (and `apply --boot` refuses a state directory that is not private).
  Result<void> made = state_dir.has_parent_path() ? make_dirs(store, state_dir.parent_path(), 0755)
                                                  : Result<void>{};
  if (made) made = make_dirs(store, state_dir, 0700);
  if (!made) {
    const bool creating = made.error().op == IoError::Op::MakeDir;
    throw StateDirError(fmt::format("cannot {} state directory {}", creating ? "create" : "use",
                                    state_dir.string()),
                        made.error());
  }
}

std::string read_boot_id(Store& store, const fs::path& proc_root) {
  const fs::path path = proc_root / "sys/kernel/random/boot_id";
  auto bytes = store.read(path);
  if (!bytes) throw StateDirError("cannot read the boot id", bytes.error());
  const std::string_view id = trim(*bytes);
  // Without it a record from an earlier boot would pass for this boot's.
  if (id.empty()) {
    throw StateDirError("cannot read the boot id (it is empty)",
                        IoError{IoError::Op::Read, path.string(), EINVAL, {}});
  }
  return std::string(id);
}

}  // namespace vfio

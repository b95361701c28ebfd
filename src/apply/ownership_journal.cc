#include "apply/ownership_journal.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <stdexcept>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "apply/ownership_json.h"
#include "sysfs/sys_path.h"
#include "util/atomic_file.h"
#include "util/read_file.h"
#include "util/result.h"

namespace vfio {
namespace fs = boost::filesystem;

namespace {

// "No such file or directory (ENOENT)"
std::string describe(int error) {
  return fmt::format("{} ({})", std::strerror(error), errno_name(error));
}

std::string utc_timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[sizeof "20240131T235959Z"];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &utc);
  return text;
}

// rename(2) that fails with EEXIST instead of replacing `to`: the name of a kept-aside file is
// only unique if nothing already there is overwritten.
int rename_no_replace(const fs::path& from, const fs::path& to) {
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  // A file system without RENAME_NOREPLACE: check first. Runs hold the run lock while they
  // change the state directory, so nothing else creates `to` in between.
  struct stat st;
  if (::lstat(to.c_str(), &st) == 0) {
    errno = EEXIST;
    return -1;
  }
  return ::rename(from.c_str(), to.c_str());
}

}  // namespace

OwnershipJournal::OwnershipJournal(fs::path state_dir, std::string boot_id)
    : state_dir_(std::move(state_dir)), boot_id_(std::move(boot_id)) {}

fs::path OwnershipJournal::file() const {
  return state_dir_ / "ownership.json";
}

LoadedRecord OwnershipJournal::load() const {
  const std::string path = file().string();
  auto bytes = read_whole_file(path);
  if (!bytes) {
    const int error = bytes.error().error;
    if (error == ENOENT) return {};
    // Not moved aside: a file we cannot read may still be good, and is not ours to lose.
    LoadedRecord out;
    out.problems.push_back(
        fmt::format("{}: cannot be read: {}: ignoring it; this run owns nothing it bound earlier",
                    path, describe(error)));
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
    if (rename_no_replace(from, to) == 0) break;
    const int error = errno;
    if (error == ENOENT) return;  // nothing to keep
    // Far more than one run a second could make; past that something else is wrong.
    if (error == EEXIST && n < 1000) continue;
    throw StateDirError(fmt::format("cannot keep the ownership record aside: rename {} to {}: {}",
                                    from.string(), to.string(), describe(error)),
                        error);
  }
  if (auto failure = sync_directory(state_dir_)) {
    throw StateDirError(
        fmt::format("cannot keep the ownership record aside: {}", failure->to_string()),
        failure->error);
  }
}

void OwnershipJournal::save(const OwnershipRecord& record) const {
  if (auto failure = replace_file_atomically(file(), encode_ownership(record, boot_id_), 0644)) {
    throw StateDirError(fmt::format("cannot save the ownership record {}: {}", file().string(),
                                    failure->to_string()),
                        failure->error);
  }
}

void ensure_state_dir(const fs::path& state_dir) {
  // Not fs::create_directories: it creates with 0777 less the umask, and the state directory
  // of a tool that runs as root must not be writable by others whatever the umask.
  std::vector<fs::path> missing;
  for (fs::path p = state_dir; !p.empty(); p = p.parent_path()) {
    struct stat st;
    if (::stat(p.c_str(), &st) == 0 || errno != ENOENT) break;
    missing.push_back(p);
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0755) != 0 && errno != EEXIST) {
      const int error = errno;
      throw StateDirError(fmt::format("cannot create state directory {}: mkdir {}: {}",
                                      state_dir.string(), it->string(), describe(error)),
                          error);
    }
  }
  struct stat st;
  if (::stat(state_dir.c_str(), &st) != 0) {
    const int error = errno;
    throw StateDirError(
        fmt::format("cannot use state directory {}: {}", state_dir.string(), describe(error)),
        error);
  }
  if (!S_ISDIR(st.st_mode)) {
    throw StateDirError(fmt::format("cannot use state directory {}: it exists and is not a "
                                    "directory ({})",
                                    state_dir.string(), errno_name(ENOTDIR)),
                        ENOTDIR);
  }
}

std::string read_boot_id(const fs::path& proc_root) {
  const std::string path = (proc_root / "sys/kernel/random/boot_id").string();
  auto bytes = read_whole_file(path);
  if (!bytes) {
    throw StateDirError(fmt::format("cannot read the boot id: {}", bytes.error().to_string()),
                        bytes.error().error);
  }
  const std::string& text = *bytes;
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) {
    // Without it a record from an earlier boot would pass for this boot's.
    throw StateDirError(fmt::format("cannot read the boot id: {} is empty", path), EINVAL);
  }
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

}  // namespace vfio

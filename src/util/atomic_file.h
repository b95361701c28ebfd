// Replacing a whole file so that a crash or a power cut leaves either the old bytes or the new
// ones, never a mix and never an empty file.
//
// The bytes go to a new file in the same directory (rename(2) is atomic only within one file
// system), which is fsync'ed before it is renamed over the target: otherwise the rename could
// reach the disk before the data. The directory is fsync'ed last, so the rename itself lasts.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include <boost/filesystem/path.hpp>

namespace vfio {

// The step that failed: what was done ("create", "write", "fsync", "close", "rename",
// "fsync directory"), to what, and the errno.
struct FileStepError {
  std::string step;
  std::string path;
  std::string to;  // rename only: the target
  int error = 0;

  // "rename /run/x/.ownership.json.tmp-1a2b to /run/x/ownership.json: Is a directory (EISDIR)"
  std::string to_string() const;
};

// Replaces `path` with `bytes` (a new file created with `mode`, less the umask). On failure the
// temporary file is gone and `path` is as it was, unless only the final fsync of the directory
// failed: the new file is then in place, but the rename might not survive a power cut.
[[nodiscard]] std::optional<FileStepError> replace_file_atomically(
    const boost::filesystem::path& path, std::string_view bytes, mode_t mode);

// fsync(2) on a directory: makes the creations, renames and removals in it durable.
[[nodiscard]] std::optional<FileStepError> sync_directory(const boost::filesystem::path& dir);

}  // namespace vfio

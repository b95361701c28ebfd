#include "util/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>
#include <boost/filesystem/operations.hpp>

#include "util/result.h"
#include "util/unique_fd.h"

namespace vfio {
namespace fs = boost::filesystem;

namespace {

// Two writers that picked the same random name would share a file: O_EXCL makes the second one
// pick again instead.
constexpr int kCreateAttempts = 100;

fs::path directory_of(const fs::path& path) {
  return path.has_parent_path() ? path.parent_path() : fs::path(".");
}

}  // namespace

std::string FileStepError::to_string() const {
  const std::string what =
      to.empty() ? fmt::format("{} {}", step, path) : fmt::format("{} {} to {}", step, path, to);
  return fmt::format("{}: {} ({})", what, std::strerror(error), errno_name(error));
}

std::optional<FileStepError> sync_directory(const fs::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) != 0) {
    return FileStepError{"fsync directory", dir.string(), {}, errno};
  }
  return std::nullopt;
}

std::optional<FileStepError> replace_file_atomically(const fs::path& path, std::string_view bytes,
                                                     mode_t mode) {
  const fs::path dir = directory_of(path);
  // A dot file, so a person listing the directory does not take a leftover for the real thing.
  const fs::path model = "." + path.filename().string() + ".tmp-%%%%-%%%%-%%%%";

  fs::path temp;
  UniqueFd fd;
  for (int attempt = 1; !fd.valid(); ++attempt) {
    boost::system::error_code ec;
    temp = dir / fs::unique_path(model, ec);
    if (ec) return FileStepError{"create", (dir / model).string(), {}, ec.value()};
    fd.reset(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
    if (!fd.valid() && (errno != EEXIST || attempt == kCreateAttempts)) {
      return FileStepError{"create", temp.string(), {}, errno};
    }
  }

  auto fail = [&](const char* step, int error, std::string to = {}) {
    fd.reset();
    ::unlink(temp.c_str());
    return FileStepError{step, temp.string(), std::move(to), error};
  };

  // A regular file may take fewer bytes than asked (a signal, a file size limit): carry on from
  // where it stopped, so a short write is either completed or reported, never silently kept.
  std::string_view rest = bytes;
  while (!rest.empty()) {
    const ssize_t n = ::write(fd.get(), rest.data(), rest.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("write", errno);
    }
    if (n == 0) return fail("write", EIO);  // no progress and no errno: do not spin
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::fsync(fd.get()) != 0) return fail("fsync", errno);
  // close() can report a write error that fsync() did not (NFS): the rename must not happen then.
  if (::close(fd.release()) != 0) return fail("close", errno);
  if (::rename(temp.c_str(), path.c_str()) != 0) return fail("rename", errno, path.string());
  return sync_directory(dir);
}

}  // namespace vfio

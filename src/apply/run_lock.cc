#include "apply/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "apply/ownership_journal.h"
#include "util/result.h"
#include "util/unique_fd.h"

namespace vfio {

std::optional<RunLock> RunLock::acquire(const boost::filesystem::path& state_dir, bool wait) {
  const std::string path = (state_dir / "lock").string();
  auto fail = [&](const char* step, int error) {
    return StateDirError(fmt::format("cannot take the run lock: {} {}: {} ({})", step, path,
                                     std::strerror(error), errno_name(error)),
                         error);
  };
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) throw fail("open", errno);
  for (;;) {
    if (::flock(fd.get(), LOCK_EX | (wait ? 0 : LOCK_NB)) == 0) return RunLock(fd.release());
    if (errno == EWOULDBLOCK) return std::nullopt;
    // A signal that interrupts the wait is not an answer; a handler that wants the run to stop
    // ends it by other means.
    if (errno != EINTR) throw fail("flock", errno);
  }
}

RunLock::RunLock(RunLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

RunLock& RunLock::operator=(RunLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

// Closing the only descriptor of the open file description is what releases the flock.
RunLock::~RunLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace vfio

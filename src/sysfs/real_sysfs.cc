#include "sysfs/real_sysfs.h"
#include "util/unique_fd.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <optional>
#include <utility>
#include <vector>

#include <boost/filesystem/operations.hpp>

namespace vfio {
namespace fs = boost::filesystem;

namespace {

// The two directories this thread last read a file or link in, kept open (O_PATH) so the next
// read in one is an openat()/readlinkat() of one name instead of a walk of the whole path
// (through the bus/pci/devices/<bdf> link): observe() reads a dozen files per device directory
// in a row, then asks bus/pci/devices whether the device is still there - hence two.
//
// Only a run of reads on one thread shares them; list() and write() drop them, so nothing older
// than the caller's current run of reads is reused. The one thing they do not notice is a
// directory replaced within such a run (a device removed and re-added between two of its
// attribute reads): those reads then fail with ENOENT, as a removed device's do.
struct CachedDir {
  std::string dir;
  int fd = -1;
  void drop() {
    if (fd >= 0) ::close(fd);
    fd = -1;
    dir.clear();
  }
};

struct DirCache {
  CachedDir slots[2];  // the most recently used first
  std::string missed;  // the directory of the last miss, not opened
  DirCache() = default;
  DirCache(const DirCache&) = delete;
  DirCache& operator=(const DirCache&) = delete;
  ~DirCache() { drop(); }
  void drop() {
    for (auto& slot : slots) slot.drop();
    missed.clear();
  }
};
thread_local DirCache t_dir_cache;

// How a file is named for the cache: its directory's full spelling and its own name; none for
// a path directly below the root (read rarely; done the plain way).
std::optional<std::pair<std::string, const std::string*>> split(const std::string& root,
                                                                const SysPath& path) {
  const auto& components = path.components();
  if (components.size() < 2) return std::nullopt;
  std::string dir = root;
  for (std::size_t i = 0; i + 1 < components.size(); ++i) {
    if (!dir.empty() && dir.back() != '/') dir += '/';
    dir += components[i];
  }
  return std::make_pair(std::move(dir), &components.back());
}

// An O_PATH descriptor for `dir` from this thread's cache, opening it on a miss; -1 when it
// cannot be opened (the caller then takes the plain path, which reports the error as ever).
int cached_dir_fd(std::string&& dir) {
  CachedDir* slots = t_dir_cache.slots;
  if (slots[0].fd >= 0 && slots[0].dir == dir) return slots[0].fd;
  std::swap(slots[0], slots[1]);
  if (slots[0].fd >= 0 && slots[0].dir == dir) return slots[0].fd;
  // A directory is opened on its second read in a row: a run that reads one file in each of
  // 10,000 directories (every device's uevent) pays one open per file, not two and a close.
  if (t_dir_cache.missed != dir) {
    t_dir_cache.missed = std::move(dir);
    return -1;
  }
  t_dir_cache.missed.clear();
  slots[0].drop();
  const int fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  slots[0].fd = fd;
  slots[0].dir = std::move(dir);
  return fd;
}

// Reads up to `max_bytes` from `fd` until end of file, as one attribute.
template <class Error>
Result<std::string> read_fd(int fd, std::size_t max_bytes, const Error& error) {
  // A stack buffer for attributes (all but a few bytes); the string is made once, to size.
  // A longer file (a routing table, the mount table: limits of megabytes) goes on into a heap
  // buffer that doubles as it fills: zero-filling the whole limit up front cost a page fault for
  // every 4 KiB of it, ~30 ms a file in a QEMU guest, for tables of a few hundred bytes.
  char stack[Sysfs::kDefaultReadLimit];
  std::string heap;
  char* buffer = stack;
  std::size_t capacity = std::min(max_bytes, sizeof stack);
  std::size_t used = 0;
  // sysfs hands an attribute out in one read, but a regular file (a test host) may not.
  for (;;) {
    if (used == capacity) {
      if (capacity == max_bytes) break;
      const std::size_t grown = capacity > max_bytes / 2 ? max_bytes : capacity * 2;
      if (buffer == stack) heap.assign(stack, used);
      heap.resize(grown);
      buffer = heap.data();
      capacity = grown;
    }
    const ssize_t n = ::read(fd, buffer + used, capacity - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      return error(errno);
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  if (buffer == stack) return std::string(stack, used);
  heap.resize(used);
  return heap;
}

// readlink(2)/readlinkat(2) into a string, growing the buffer for long targets.
Result<std::string> read_link_at(int dirfd, const char* name) {
  std::vector<char> buffer(PATH_MAX);
  for (;;) {
    ssize_t n = ::readlinkat(dirfd, name, buffer.data(), buffer.size());
    if (n < 0) return IoError{IoError::Op::ReadLink, {}, errno, {}};
    if (static_cast<std::size_t>(n) < buffer.size())
      return std::string(buffer.data(), static_cast<std::size_t>(n));
    buffer.resize(buffer.size() * 2);
  }
}

// Closes every descriptor but `keep_a` and `keep_b`. Only system calls: it runs in a forked
// child of a multi-threaded process, where nothing but async-signal-safe calls may be made.
void close_all_but(int keep_a, int keep_b) {
  const auto lo = static_cast<unsigned>(std::min(keep_a, keep_b));
  const auto hi = static_cast<unsigned>(std::max(keep_a, keep_b));
  bool ok = lo == 0 || ::close_range(0, lo - 1, 0) == 0;
  ok = ok && (hi <= lo + 1 || ::close_range(lo + 1, hi - 1, 0) == 0);
  ok = ok && ::close_range(hi + 1, ~0U, 0) == 0;
  if (ok) return;
  // close_range(2) is Linux 5.9+; before that, the descriptors a process is likely to hold.
  for (int fd = 0; fd < (1 << 16); ++fd) {
    if (fd != keep_a && fd != keep_b) ::close(fd);
  }
}

// The one write(2) of `value` to the open attribute `fd`, made in a process of its own: 0 when
// it took the whole value, its errno when it failed, ETIMEDOUT when it has not returned by
// `deadline` (it is then left running, and may still act).
//
// Why a process: a store can sleep uninterruptibly in the kernel (unbinding a device a VM holds
// waits until the VM lets go). A thread stuck that way cannot be killed, and it would keep the
// whole process from exiting; a separate process is stuck alone.
//
// Why two forks: the child forks the writer and exits at once, so we reap the child right away
// and the writer, orphaned, is reparented to init (or the nearest subreaper), which reaps it
// whenever its write returns. Nothing of ours is left to reap later: no zombies pile up, no
// SIGCHLD handling, no reaper thread. The writer reports through a pipe instead of its exit
// status; when we stopped listening, writing the report kills it with SIGPIPE (or fails with
// EPIPE), which is fine: its store is done by then.
//
// The writer closes every other descriptor first: otherwise a stuck writer would hold copies of
// whatever the process had open (the run lock's flock, the pipes a test harness or a service
// manager reads our output from, other writers' report pipes) for as long as it is stuck.
int write_detached(int fd, std::string_view value, std::chrono::steady_clock::time_point deadline) {
  int report[2];
  if (::pipe2(report, O_CLOEXEC) != 0) return errno;
  UniqueFd report_read(report[0]);
  UniqueFd report_write(report[1]);

  const pid_t child = ::fork();
  if (child < 0) return errno;
  if (child == 0) {
    // _Fork: unlike fork(), it runs no atfork handlers, which are not async-signal-safe.
    const pid_t writer = ::_Fork();
    if (writer != 0) ::_exit(writer < 0 ? errno : 0);
    close_all_but(fd, report[1]);
    // One write(2), as on the direct path: no retry on EINTR.
    const ssize_t n = ::write(fd, value.data(), value.size());
    int outcome = 0;
    if (n < 0) {
      outcome = errno;
    } else if (static_cast<std::size_t>(n) != value.size()) {
      outcome = EIO;
    }
    // The report is ours, not the kernel's store: retrying it is harmless.
    while (::write(report[1], &outcome, sizeof outcome) < 0 && errno == EINTR) {
    }
    ::_exit(0);
  }
  report_write.reset();  // so that a writer dying without a report shows as end of file

  int status = 0;
  pid_t reaped;
  while ((reaped = ::waitpid(child, &status, 0)) < 0 && errno == EINTR) {
  }
  // ECHILD: SIGCHLD is ignored, so the kernel reaped the child; the pipe still tells.
  if (reaped == child && WIFEXITED(status) && WEXITSTATUS(status) != 0) {
    return WEXITSTATUS(status);  // the child could not fork the writer: nothing was written
  }

  for (;;) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    const auto wait_ms = std::clamp<std::chrono::milliseconds::rep>(left.count(), 0, INT_MAX);
    pollfd ready{report_read.get(), POLLIN, 0};
    const int n = ::poll(&ready, 1, static_cast<int>(wait_ms));
    if (n > 0) break;
    if (n == 0) return ETIMEDOUT;
    if (errno != EINTR) return errno;
  }
  int outcome = 0;
  ssize_t n;
  while ((n = ::read(report_read.get(), &outcome, sizeof outcome)) < 0 && errno == EINTR) {
  }
  // No report: the writer was killed (a signal, the OOM killer), its store may or may not have
  // happened.
  if (n != static_cast<ssize_t>(sizeof outcome)) return EIO;
  return outcome;
}

}  // namespace

RealSysfs::RealSysfs(fs::path root) : root_(std::move(root)), root_string_(root_.string()) {}

fs::path RealSysfs::resolve(const SysPath& path) const {
  fs::path out = root_;
  for (const auto& component : path.components()) out /= component;
  return out;
}

std::string RealSysfs::display(const SysPath& path) const {
  return resolve(path).string();
}

Result<std::string> RealSysfs::read(const SysPath& path, std::size_t max_bytes) {
  auto io_error = [&](int err) { return IoError{IoError::Op::Read, display(path), err, {}}; };
  if (auto parts = split(root_string_, path)) {
    const int dirfd = cached_dir_fd(std::move(parts->first));
    if (dirfd >= 0) {
      UniqueFd fd(::openat(dirfd, parts->second->c_str(), O_RDONLY | O_CLOEXEC));
      if (fd.get() < 0) return io_error(errno);
      return read_fd(fd.get(), max_bytes, io_error);
    }
  }
  const std::string full = display(path);
  UniqueFd fd(::open(full.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return io_error(errno);
  return read_fd(fd.get(), max_bytes, io_error);
}

Result<std::string> RealSysfs::read_link(const SysPath& path) {
  int dirfd = -1;
  if (auto parts = split(root_string_, path)) dirfd = cached_dir_fd(std::move(parts->first));
  auto target = dirfd >= 0 ? read_link_at(dirfd, path.leaf().c_str())
                           : read_link_at(AT_FDCWD, display(path).c_str());
  if (!target) return IoError{IoError::Op::ReadLink, display(path), target.error().error, {}};
  return target;
}

Result<std::vector<std::string>> RealSysfs::list(const SysPath& dir) {
  t_dir_cache.drop();
  boost::system::error_code ec;
  std::vector<std::string> names;
  fs::directory_iterator it(resolve(dir), ec), end;
  for (; !ec && it != end; it.increment(ec)) names.push_back(it->path().filename().string());
  if (ec) return IoError{IoError::Op::List, display(dir), ec.value(), {}};
  return names;
}

Result<void> RealSysfs::may_write(const SysPath& path) {
  // AT_EACCESS: the effective ids, those a write would be checked with.
  if (::faccessat(AT_FDCWD, resolve(path).c_str(), W_OK, AT_EACCESS) != 0) {
    return IoError{IoError::Op::Write, display(path), errno, {}};
  }
  return {};
}

Result<void> RealSysfs::write(const SysPath& path, std::string_view value) {
  t_dir_cache.drop();
  const std::string full = display(path);
  auto io_error = [&](int err) {
    return IoError{IoError::Op::Write, full, err, std::string(value)};
  };
  const auto timeout = write_timeout();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // O_TRUNC matters only for on-disk test hosts; sysfs ignores it.
  UniqueFd fd(::open(full.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (fd.get() < 0) return io_error(errno);
  if (timeout.count() > 0) {
    // Opened here, so open errors are reported exactly as on the direct path below.
    const int outcome = write_detached(fd.get(), value, deadline);
    if (outcome != 0) return io_error(outcome);
    return {};
  }
  // No retry on EINTR: the store may have acted, and the caller must see exactly what happened.
  ssize_t n = ::write(fd.get(), value.data(), value.size());
  if (n < 0) return io_error(errno);
  // A sysfs store consumes the whole buffer or fails; anything shorter is not what we asked for.
  if (static_cast<std::size_t>(n) != value.size()) return io_error(EIO);
  return {};
}

}  // namespace vfio

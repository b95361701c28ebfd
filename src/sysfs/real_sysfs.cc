#include "sysfs/real_sysfs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <optional>
#include <utility>
#include <vector>

#include <boost/filesystem/operations.hpp>

namespace vfio {
namespace fs = boost::filesystem;

namespace {

// Closes the descriptor on every path out, including errors.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

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
  DirCache() = default;
  DirCache(const DirCache&) = delete;
  DirCache& operator=(const DirCache&) = delete;
  ~DirCache() { drop(); }
  void drop() {
    for (auto& slot : slots) slot.drop();
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
  char stack[Sysfs::kDefaultReadLimit];
  std::string heap;
  char* buffer = stack;
  if (max_bytes > sizeof stack) {
    heap.resize(max_bytes);
    buffer = heap.data();
  }
  std::size_t used = 0;
  // sysfs hands an attribute out in one read, but a regular file (a test host) may not.
  while (used < max_bytes) {
    ssize_t n = ::read(fd, buffer + used, max_bytes - used);
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
      Fd fd(::openat(dirfd, parts->second->c_str(), O_RDONLY | O_CLOEXEC));
      if (fd.get() < 0) return io_error(errno);
      return read_fd(fd.get(), max_bytes, io_error);
    }
  }
  const std::string full = display(path);
  Fd fd(::open(full.c_str(), O_RDONLY | O_CLOEXEC));
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

Result<void> RealSysfs::write(const SysPath& path, std::string_view value) {
  t_dir_cache.drop();
  const std::string full = display(path);
  auto io_error = [&](int err) {
    return IoError{IoError::Op::Write, full, err, std::string(value)};
  };
  // O_TRUNC matters only for on-disk test hosts; sysfs ignores it.
  Fd fd(::open(full.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (fd.get() < 0) return io_error(errno);
  // No retry on EINTR: the store may have acted, and the caller must see exactly what happened.
  ssize_t n = ::write(fd.get(), value.data(), value.size());
  if (n < 0) return io_error(errno);
  // A sysfs store consumes the whole buffer or fails; anything shorter is not what we asked for.
  if (static_cast<std::size_t>(n) != value.size()) return io_error(EIO);
  return {};
}

}  // namespace vfio

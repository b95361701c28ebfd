#include "sysfs/real_sysfs.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

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

}  // namespace

RealSysfs::RealSysfs(fs::path root) : root_(std::move(root)) {}

fs::path RealSysfs::resolve(const SysPath& path) const {
  fs::path out = root_;
  for (const auto& component : path.components()) out /= component;
  return out;
}

std::string RealSysfs::display(const SysPath& path) const {
  return resolve(path).string();
}

Result<std::string> RealSysfs::read(const SysPath& path, std::size_t max_bytes) {
  const std::string full = display(path);
  auto io_error = [&](int err) { return IoError{IoError::Op::Read, full, err, {}}; };
  Fd fd(::open(full.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return io_error(errno);
  std::string out;
  out.resize(max_bytes);
  std::size_t used = 0;
  // sysfs hands an attribute out in one read, but a regular file (a test host) may not.
  while (used < max_bytes) {
    ssize_t n = ::read(fd.get(), out.data() + used, max_bytes - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error(errno);
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  out.resize(used);
  return out;
}

Result<std::string> RealSysfs::read_link(const SysPath& path) {
  boost::system::error_code ec;
  fs::path target = fs::read_symlink(resolve(path), ec);
  if (ec) return IoError{IoError::Op::ReadLink, display(path), ec.value(), {}};
  return target.string();
}

Result<std::vector<std::string>> RealSysfs::list(const SysPath& dir) {
  boost::system::error_code ec;
  std::vector<std::string> names;
  fs::directory_iterator it(resolve(dir), ec), end;
  for (; !ec && it != end; it.increment(ec)) names.push_back(it->path().filename().string());
  if (ec) return IoError{IoError::Op::List, display(dir), ec.value(), {}};
  return names;
}

Result<void> RealSysfs::write(const SysPath& path, std::string_view value) {
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

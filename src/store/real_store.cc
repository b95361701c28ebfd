#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "store/store.h"
#include "util/unique_fd.h"

namespace vfio {
namespace {

IoError failure(IoError::Op op, const Store::Path& path, int error, std::string value = {}) {
  return IoError{op, path.string(), error, std::move(value)};
}

class FlockLock final : public StoreLock {
 public:
  explicit FlockLock(UniqueFd fd) : fd_(std::move(fd)) {}

 private:
  UniqueFd fd_;  // closing the only descriptor of the open file description releases the flock
};

}  // namespace

Result<std::string> RealStore::read(const Path& file) {
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return failure(IoError::Op::Read, file, errno);
  std::string bytes;
  char buffer[8192];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return failure(IoError::Op::Read, file, errno);
    }
    if (n == 0) return bytes;
    bytes.append(buffer, static_cast<std::size_t>(n));
    if (bytes.size() > kReadLimit) return failure(IoError::Op::Read, file, EFBIG);
  }
}

Result<Entry> RealStore::stat(const Path& path, Links links) {
  struct stat st;
  const int rc = links == Links::Follow ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st);
  if (rc != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Entry{};
    return failure(IoError::Op::Stat, path, errno);
  }
  const EntryKind kind = S_ISREG(st.st_mode)   ? EntryKind::File
                         : S_ISDIR(st.st_mode) ? EntryKind::Directory
                                               : EntryKind::Other;
  return Entry{kind, kind == EntryKind::File ? static_cast<unsigned long long>(st.st_size) : 0,
               st.st_uid, st.st_mode & 07777};
}

Result<std::vector<std::string>> RealStore::list(const Path& dir) {
  std::unique_ptr<DIR, int (*)(DIR*)> stream(::opendir(dir.c_str()), ::closedir);
  if (!stream) return failure(IoError::Op::List, dir, errno);
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(stream.get());
    if (!entry) {
      if (errno != 0) return failure(IoError::Op::List, dir, errno);
      return names;
    }
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
}

Result<void> RealStore::make_dir(const Path& dir, mode_t mode) {
  if (::mkdir(dir.c_str(), mode) != 0) return failure(IoError::Op::MakeDir, dir, errno);
  return {};
}

Result<void> RealStore::create(const Path& file, std::string_view bytes, mode_t mode) {
  UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd.valid()) return failure(IoError::Op::Create, file, errno);
  // A regular file may take fewer bytes than asked (a signal, a file size limit): carry on from
  // where it stopped, so a short write is either completed or reported, never silently kept.
  // What is created is whole, or gone.
  auto fail = [&](IoError::Op op, int error) -> Result<void> {
    fd.reset();
    ::unlink(file.c_str());
    return failure(op, file, error);
  };
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd.get(), bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(IoError::Op::Write, n < 0 ? errno : EIO);  // n == 0: do not spin
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  // close() can report a write error (NFS): the file must then not be used.
  if (::close(fd.release()) != 0) return fail(IoError::Op::Write, errno);
  return {};
}

Result<void> RealStore::sync_file(const Path& file) {
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) != 0) return failure(IoError::Op::Sync, file, errno);
  return {};
}

Result<void> RealStore::rename(const Path& from, const Path& to, bool replace) {
  const unsigned flags = replace ? 0u : RENAME_NOREPLACE;
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), flags) == 0) return {};
  if (replace || (errno != EINVAL && errno != ENOSYS)) {
    return failure(IoError::Op::Rename, from, errno, to.string());
  }
  // A file system without RENAME_NOREPLACE: check first. Runs hold the run lock while they
  // change the state directory, so nothing else creates `to` in between.
  struct stat st;
  if (::lstat(to.c_str(), &st) == 0) return failure(IoError::Op::Rename, from, EEXIST, to.string());
  if (::rename(from.c_str(), to.c_str()) != 0) {
    return failure(IoError::Op::Rename, from, errno, to.string());
  }
  return {};
}

Result<void> RealStore::remove(const Path& file) {
  if (::unlink(file.c_str()) != 0) return failure(IoError::Op::Remove, file, errno);
  return {};
}

Result<void> RealStore::sync_dir(const Path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid() || ::fsync(fd.get()) != 0) return failure(IoError::Op::Sync, dir, errno);
  return {};
}

Result<std::unique_ptr<StoreLock>> RealStore::lock(const Path& file, bool wait) {
  UniqueFd fd(::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
  if (!fd.valid()) return failure(IoError::Op::Open, file, errno);
  for (;;) {
    if (::flock(fd.get(), LOCK_EX | (wait ? 0 : LOCK_NB)) == 0) {
      return std::unique_ptr<StoreLock>(std::make_unique<FlockLock>(std::move(fd)));
    }
    if (errno == EWOULDBLOCK) return std::unique_ptr<StoreLock>();
    // A signal that interrupts the wait is not an answer; a handler that wants the run to stop
    // ends it by other means.
    if (errno != EINTR) return failure(IoError::Op::Lock, file, errno);
  }
}

}  // namespace vfio

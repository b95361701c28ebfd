// Store: the one interface through which vfio-reconcile reaches what lasts between runs - the
// manifests, the state directory (the ownership record, the run lock), the boot id - as
// leveldb's Env is for its files. Production uses RealStore (the file system); tests use an
// in-memory store that can fail any operation, freeze at a simulated crash, and drop at a simulated
// power cut what was not synced (tests/sim/memory_store.h).
//
// The operations are the file system's own primitives, each one system call's worth, so that
// what must happen in order (write, fsync, rename, fsync the directory: state_file.h) is written
// once, above them, and the in-memory store can tell durable from not yet durable.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/filesystem/path.hpp>

#include "util/result.h"

namespace vfio {

enum class EntryKind { Missing, File, Directory, Other };

struct Entry {
  EntryKind kind = EntryKind::Missing;
  unsigned long long size = 0;  // of a file, in bytes
  uid_t owner = 0;              // st_uid
  mode_t mode = 0;              // st_mode's permission bits (07777)
};

// Whether stat() looks through a last symbolic link (stat(2)) or at the link itself (lstat(2)).
enum class Links { Follow, DoNotFollow };

// Held until destroyed; the lock goes with the process however it ends.
class StoreLock {
 public:
  virtual ~StoreLock() = default;
};

class Store {
 public:
  using Path = boost::filesystem::path;
  static constexpr std::size_t kReadLimit = 16u << 20;  // what lasts here is small

  virtual ~Store() = default;

  // The whole file (at most kReadLimit bytes: EFBIG past that).
  virtual Result<std::string> read(const Path& file) = 0;
  // What is at `path`; Missing (not an error) when nothing is.
  virtual Result<Entry> stat(const Path& path, Links links = Links::Follow) = 0;
  // The names in a directory, in no particular order.
  virtual Result<std::vector<std::string>> list(const Path& dir) = 0;

  // mkdir(2): EEXIST when something is already there.
  virtual Result<void> make_dir(const Path& dir, mode_t mode) = 0;
  // A new file holding `bytes` (EEXIST when the name is taken), written and closed, not synced;
  // on failure nothing of it is left.
  virtual Result<void> create(const Path& file, std::string_view bytes, mode_t mode) = 0;
  // fsync(2) of a file's data.
  virtual Result<void> sync_file(const Path& file) = 0;
  // rename(2); with `replace` false, EEXIST instead of replacing `to`.
  virtual Result<void> rename(const Path& from, const Path& to, bool replace) = 0;
  virtual Result<void> remove(const Path& file) = 0;
  // fsync(2) of a directory: its creations, renames and removals last.
  virtual Result<void> sync_dir(const Path& dir) = 0;

  // An exclusive lock on `file` (created when missing). Without `wait`, null when another
  // process holds it; with `wait`, blocks until it is free.
  virtual Result<std::unique_ptr<StoreLock>> lock(const Path& file, bool wait) = 0;
};

// The file system.
class RealStore final : public Store {
 public:
  Result<std::string> read(const Path& file) override;
  Result<Entry> stat(const Path& path, Links links = Links::Follow) override;
  Result<std::vector<std::string>> list(const Path& dir) override;
  Result<void> make_dir(const Path& dir, mode_t mode) override;
  Result<void> create(const Path& file, std::string_view bytes, mode_t mode) override;
  Result<void> sync_file(const Path& file) override;
  Result<void> rename(const Path& from, const Path& to, bool replace) override;
  Result<void> remove(const Path& file) override;
  Result<void> sync_dir(const Path& dir) override;
  Result<std::unique_ptr<StoreLock>> lock(const Path& file, bool wait) override;
};

}  // namespace vfio

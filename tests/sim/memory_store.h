// MemoryStore: the Store in memory, for tests, as the kernel simulator is the gateway in memory.
//
// It keeps what a process sees apart from what is on the disk: a file's data lasts only once
// sync_file() has run on it, and a directory's entries (creations, renames, removals) only once
// sync_dir() has run on that directory. power_cut() throws away everything else, as a power cut
// does to the page cache. Directories themselves last as soon as they are made (the state
// directory is made once, long before anything is at stake). It has no symbolic links.
//
// Any operation can be made to fail (fail()), and the store can be frozen at the instant a
// simulated process dies: every change after that is refused with EIO and changes nothing, so
// the dead process's later steps never land; crash_after_change() does it after the n-th change
// and runs a hook at that instant (to freeze the kernel simulator with it).
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "store/store.h"

namespace vfio::sim {

class MemoryStore final : public Store {
 public:
  MemoryStore();
  ~MemoryStore() override;

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

  // Test set-up, durable at once: a file as if written and synced long ago.
  void put(const Path& file, const std::string& bytes);

  // The `nth` call (1-based, counted per operation) of `op` whose path contains `path_part`
  // fails with `error`, changing nothing.
  void fail(IoError::Op op, const std::string& path_part, int error, unsigned nth = 1);

  // Change operations (make_dir, create, sync_file, rename, remove, sync_dir, lock) so far.
  unsigned changes() const;
  // Change number n takes effect, then the store freezes and `also` runs, in that instant.
  void crash_after_change(unsigned n, std::function<void()> also = {});
  void freeze();
  bool frozen() const;
  // The process is gone and a new one starts: changes are taken again, locks are free.
  void thaw();
  // Only what was synced is left; then as thaw().
  void power_cut();

 private:
  struct Inode {
    std::string data;
    std::optional<std::string> synced;  // the data as last synced; none: never
  };
  struct Fault {
    IoError::Op op;
    std::string path_part;
    int error;
    unsigned nth;
    unsigned seen = 0;  // matching calls so far
  };
  class Lock;

  std::optional<IoError> take_fault(IoError::Op op, const Path& path);
  // Counts a change; an error when frozen (EIO) or when a fault is planned for it.
  std::optional<IoError> begin_change(IoError::Op op, const Path& path);
  void end_change();
  bool has_dir(const Path& dir) const;

  mutable std::mutex mutex_;
  std::condition_variable lock_freed_;
  std::set<std::string> dirs_;
  std::map<std::string, std::shared_ptr<Inode>> visible_;  // what processes see
  std::map<std::string, std::shared_ptr<Inode>> durable_;  // what survives a power cut
  std::set<std::string> locked_;
  unsigned generation_ = 0;  // of processes: a lock from before thaw() frees nothing
  std::vector<Fault> faults_;
  unsigned changes_ = 0;
  std::optional<unsigned> crash_at_;
  std::function<void()> on_crash_;
  bool frozen_ = false;
};

}  // namespace vfio::sim

// RunLock: one vfio-reconcile run at a time per state directory (an flock on <state dir>/lock).
//
// Two runs moving the same devices at once would each see the other's half-done groups. The
// lock is advisory and held by the open file description, so it goes away with the process
// however it ends (no stale lock after a crash or a kill).
#pragma once

#include <memory>
#include <optional>

#include <boost/filesystem/path.hpp>

#include "store/store.h"

namespace vfio {

class RunLock {
 public:
  // Takes the lock on <state dir>/lock. Without `wait`, returns nullopt when another process
  // holds it; with `wait`, blocks until it is free. Throws StateDirError (ownership_journal.h)
  // when the lock file cannot be created or locked for another reason. The state directory
  // must exist.
  static std::optional<RunLock> acquire(Store& store, const boost::filesystem::path& state_dir,
                                        bool wait);

 private:
  explicit RunLock(std::unique_ptr<StoreLock> held) : held_(std::move(held)) {}
  std::unique_ptr<StoreLock> held_;
};

}  // namespace vfio

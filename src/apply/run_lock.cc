#include "apply/run_lock.h"

#include "apply/ownership_journal.h"

namespace vfio {

std::optional<RunLock> RunLock::acquire(Store& store, const boost::filesystem::path& state_dir,
                                        bool wait) {
  auto held = store.lock(state_dir / "lock", wait);
  if (!held) throw StateDirError("cannot take the run lock", held.error());
  if (!*held) return std::nullopt;
  return RunLock(std::move(held).value());
}

}  // namespace vfio

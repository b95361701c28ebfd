// The state directory of a run that writes, opened as the pipeline needs it before it plans:
// made if missing, locked for this run, its ownership record read, and a record that cannot be
// used at all (corrupt, another boot's) kept aside so that what it said is not lost.
#pragma once

#include <optional>
#include <string>

#include <boost/filesystem/path.hpp>

#include "apply/ownership_journal.h"
#include "apply/run_lock.h"
#include "store/store.h"

namespace vfio {

struct OpenStateDir {
  RunLock lock;              // held until this is destroyed
  OwnershipJournal journal;  // where the run records what it changes
  LoadedRecord owned;        // what earlier runs recorded, with each problem found in it
};

// Nothing when another run holds the lock and `wait` is false. Each problem of the record is
// logged as a warning. Throws StateDirError when the directory cannot be made, locked or read,
// or the record not kept aside.
std::optional<OpenStateDir> open_state_dir(Store& store, const boost::filesystem::path& dir,
                                           const std::string& boot_id, bool wait);

}  // namespace vfio

// OwnershipLedger: the ownership record as the apply engine changes it, group by group, each
// change saved to the journal before the run goes on (write-ahead: a transaction is recorded as
// in flight, with every device's original binding, before its first write, and settled after
// its last). Shared by the groups running in parallel.
#pragma once

#include <mutex>
#include <optional>

#include "plan/ownership.h"

namespace vfio {

class OwnershipJournal;

class OwnershipLedger {
 public:
  // `journal` may be null: nothing is persisted (tests of the engine alone).
  OwnershipLedger(OwnershipRecord record, const OwnershipJournal* journal);

  OwnershipRecord record() const;
  std::optional<OwnedGroup> find(unsigned group) const;

  // Sets (or, with nullopt, forgets) the entry of `group` and saves the whole record.
  // Throws StateDirError when it cannot be saved; the entry is then unchanged in memory too.
  void set(unsigned group, std::optional<OwnedGroup> entry);

 private:
  mutable std::mutex mutex_;
  OwnershipRecord record_;
  const OwnershipJournal* journal_;
};

}  // namespace vfio

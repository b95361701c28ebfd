#include "apply/ownership_ledger.h"

#include "apply/ownership_journal.h"

namespace vfio {

OwnershipLedger::OwnershipLedger(OwnershipRecord record, const OwnershipJournal* journal)
    : record_(std::move(record)), journal_(journal) {}

OwnershipRecord OwnershipLedger::record() const {
  std::lock_guard lock(mutex_);
  return record_;
}

std::optional<OwnedGroup> OwnershipLedger::find(unsigned group) const {
  std::lock_guard lock(mutex_);
  if (const OwnedGroup* g = record_.find(group)) return *g;
  return std::nullopt;
}

void OwnershipLedger::set(unsigned group, std::optional<OwnedGroup> entry) {
  std::lock_guard lock(mutex_);
  OwnershipRecord next = record_;
  if (entry) {
    next.groups[group] = std::move(*entry);
  } else {
    next.groups.erase(group);
  }
  // Saved under the lock: records from parallel groups reach the disk in the order they were made.
  if (journal_) journal_->save(next);
  record_ = std::move(next);
}

}  // namespace vfio

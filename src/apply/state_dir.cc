#include "apply/state_dir.h"

#include <spdlog/spdlog.h>

namespace vfio {

std::optional<OpenStateDir> open_state_dir(Store& store, const boost::filesystem::path& dir,
                                           const std::string& boot_id, bool wait) {
  ensure_state_dir(store, dir);
  auto lock = RunLock::acquire(store, dir, wait);
  if (!lock) return std::nullopt;
  OwnershipJournal journal(store, dir, boot_id);
  LoadedRecord owned = journal.load();
  // Said before the file is moved: if that fails, why it was unusable is still told.
  for (const auto& problem : owned.problems) spdlog::warn("{}", problem);
  if (owned.unusable_file) journal.keep_aside("unusable");
  // The entries kept are saved without the dropped ones at once (a run that changes nothing
  // would otherwise leave them to be reported again, run after run), the file as it was first
  // kept beside it.
  if (owned.dropped_entries) {
    journal.keep_copy_aside("damaged");
    journal.save(owned.record);
  }
  return OpenStateDir{std::move(*lock), std::move(journal), std::move(owned)};
}

}  // namespace vfio

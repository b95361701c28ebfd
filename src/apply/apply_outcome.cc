#include "apply/apply_outcome.h"

#include <algorithm>
#include <ostream>

namespace vfio {

std::string_view to_string(GroupResult result) {
  switch (result) {
    case GroupResult::Claimed:
      return "claimed";
    case GroupResult::Released:
      return "released";
    case GroupResult::Adopted:
      return "adopted";
    case GroupResult::Forgotten:
      return "forgotten";
    case GroupResult::VfsSet:
      return "vfs-set";
    case GroupResult::Unchanged:
      return "unchanged";
    case GroupResult::Blocked:
      return "blocked";
    case GroupResult::RolledBack:
      return "rolled-back";
    case GroupResult::Failed:
      return "failed";
    case GroupResult::NotStarted:
      return "not-started";
    case GroupResult::DryRun:
      return "dry-run";
  }
  return "?";
}

bool is_failure(GroupResult result) {
  return result == GroupResult::RolledBack || result == GroupResult::Failed;
}

std::ostream& operator<<(std::ostream& out, GroupResult result) {
  return out << to_string(result);
}

unsigned ApplyOutcome::count(GroupResult result) const {
  return static_cast<unsigned>(std::count_if(groups.begin(), groups.end(),
                                             [&](const auto& g) { return g.result == result; }));
}

bool ApplyOutcome::any_failure() const {
  return std::any_of(groups.begin(), groups.end(),
                     [](const auto& g) { return is_failure(g.result); });
}

}  // namespace vfio

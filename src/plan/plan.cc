#include "plan/plan.h"

namespace vfio {

bool is_safety_refusal(BlockReason reason) {
  return reason == BlockReason::BootDisplay || reason == BlockReason::Console ||
         reason == BlockReason::NetworkInUse || reason == BlockReason::StorageInUse ||
         reason == BlockReason::GpuInUse;
}

std::string held_for(const std::string& owner, const std::string& assignment) {
  if (owner == kDefaultOwner) return assignment;
  return assignment + " of owner " + owner;
}

std::string_view to_string(GroupAction action) {
  switch (action) {
    case GroupAction::Claim:
      return "claim";
    case GroupAction::Release:
      return "release";
    case GroupAction::Adopt:
      return "adopt";
    case GroupAction::Noop:
      return "noop";
    case GroupAction::Blocked:
      return "blocked";
    case GroupAction::Forget:
      return "forget";
    case GroupAction::SetVfs:
      return "set-vfs";
  }
  return "unknown";
}

std::string_view to_string(BlockReason reason) {
  switch (reason) {
    case BlockReason::NoGroup:
      return "no-iommu-group";
    case BlockReason::NotFound:
      return "not-found";
    case BlockReason::NoMatch:
      return "no-match";
    case BlockReason::CountMismatch:
      return "count-mismatch";
    case BlockReason::Conflict:
      return "conflict";
    case BlockReason::PartialGroup:
      return "partial-group";
    case BlockReason::NotAnEndpoint:
      return "not-an-endpoint";
    case BlockReason::NotAsDescribed:
      return "not-as-described";
    case BlockReason::Vanished:
      return "vanished";
    case BlockReason::BootDisplay:
      return "boot-display";
    case BlockReason::Console:
      return "console";
    case BlockReason::NetworkInUse:
      return "network-in-use";
    case BlockReason::StorageInUse:
      return "storage-in-use";
    case BlockReason::HeldOpen:
      return "held-open";
    case BlockReason::OwnedByOther:
      return "owned-by-other";
    case BlockReason::HoldersUnknown:
      return "holders-unknown";
    case BlockReason::SriovUnconfigurable:
      return "sriov-unconfigurable";
    case BlockReason::GpuInUse:
      return "gpu-in-use";
    case BlockReason::DriverUnavailable:
      return "driver-unavailable";
  }
  return "unknown";
}

PlanSummary Plan::summary() const {
  PlanSummary s;
  for (const auto& c : changes) {
    switch (c.action) {
      case GroupAction::Claim:
        ++s.claim;
        break;
      case GroupAction::Release:
        ++s.release;
        break;
      case GroupAction::Adopt:
        ++s.adopt;
        break;
      case GroupAction::Noop:
        ++s.noop;
        break;
      case GroupAction::Blocked:
        ++s.blocked;
        break;
      case GroupAction::Forget:
        ++s.forget;
        break;
      case GroupAction::SetVfs:
        ++s.set_vfs;
        break;
    }
  }
  return s;
}

bool Plan::has_changes() const {
  for (const auto& c : changes) {
    if (c.action == GroupAction::Claim || c.action == GroupAction::Release ||
        c.action == GroupAction::SetVfs) {
      return true;
    }
  }
  return false;
}

}  // namespace vfio

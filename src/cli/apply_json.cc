#include "cli/apply_json.h"

#include <algorithm>

#include "cli/plan_json.h"
#include "util/result.h"

namespace vfio::cli {
namespace {

nlohmann::ordered_json binding_json(const std::optional<Binding>& b) {
  if (!b) return nullptr;
  nlohmann::ordered_json j;
  j["driver"] = b->driver ? nlohmann::ordered_json(*b->driver) : nullptr;
  j["override"] = b->override ? nlohmann::ordered_json(*b->override) : nullptr;
  return j;
}

nlohmann::ordered_json outcome_json(const GroupOutcome& g) {
  nlohmann::ordered_json j;
  j["result"] = std::string(to_string(g.result));
  j["elapsed_ms"] = g.elapsed.count();
  if (g.failure) {
    j["failure"] = {
        {"device", g.failure->device.str()},
        {"step", g.failure->step},
        {"message", g.failure->message},
        {"errno",
         g.failure->error ? nlohmann::ordered_json(errno_name(g.failure->error)) : nullptr}};
  } else {
    j["failure"] = nullptr;
  }
  j["problems"] = g.problems;
  auto devices = nlohmann::ordered_json::array();
  for (const auto& d : g.devices) {
    devices.push_back({{"address", d.address.str()},
                       {"before", binding_json(d.before)},
                       {"after", binding_json(d.after)}});
  }
  j["devices"] = devices;
  return j;
}

}  // namespace

nlohmann::ordered_json apply_json(const Plan& plan, const ApplyOutcome& outcome,
                                  const DeviceNames& names, bool dry_run) {
  nlohmann::ordered_json j = plan_json(plan, names);
  j["dry_run"] = dry_run;
  auto& changes = j["changes"];
  for (std::size_t i = 0; i < outcome.groups.size() && i < changes.size(); ++i) {
    changes[i]["outcome"] = outcome_json(outcome.groups[i]);
  }
  nlohmann::ordered_json applied;
  for (GroupResult r :
       {GroupResult::Claimed, GroupResult::Released, GroupResult::Adopted, GroupResult::Forgotten,
        GroupResult::VfsSet, GroupResult::Unchanged, GroupResult::Blocked, GroupResult::RolledBack,
        GroupResult::Failed, GroupResult::NotStarted, GroupResult::DryRun}) {
    // Keys in snake_case (format 2.0), as every key is; the result's own word is kebab-case.
    std::string key(to_string(r));
    std::replace(key.begin(), key.end(), '-', '_');
    applied[key] = outcome.count(r);
  }
  applied["interrupted"] = outcome.interrupted;
  j["applied"] = applied;
  return j;
}

}  // namespace vfio::cli

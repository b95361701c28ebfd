// A saved plan (`plan --out FILE`, `apply --plan FILE`), as Terraform's `plan -out`: the plan
// shown, the manifests it was made from (their text, as read), and the facts of the host it was
// made for. Applying it re-reads the host and the ownership record and plans the saved
// manifests again; only when that gives the very plan saved (same host fingerprint, same
// changes) is it carried out, so what runs is what was reviewed, and a host that changed in
// between is named, device by device, before anything is written.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "manifest/load_manifests.h"
#include "observe/device_names.h"
#include "plan/fingerprint.h"
#include "plan/plan.h"

namespace vfio::cli {

// Bumped when the file's shape changes; a file of another version is refused by name.
inline constexpr int kSavedPlanFormat = 1;

struct SavedPlan {
  std::string tool_version;  // the vfio-reconcile that made it; only the same one applies it
  bool prune = true;         // made without --no-prune
  std::vector<ManifestSource> manifests;
  FingerprintFacts observed;
  std::string fingerprint;  // fingerprint(observed), checked when read
  nlohmann::json plan;      // plan_json() of the plan as shown
};

// The plan is saved as `plan --json` shows it, its devices named from `names`.
std::string encode_saved_plan(const std::vector<ManifestSource>& manifests, bool prune,
                              const HostSnapshot& host, const Plan& plan, const DeviceNames& names);

// The saved plan, or why `text` is not one ("observed.devices[2].driver is not a name"). Never
// throws.
std::variant<SavedPlan, std::string> decode_saved_plan(std::string_view text);

// Why the plan made now (from the saved manifests, on the host as it is) is not the plan saved:
// the tool's version, each change of the host the fingerprint covers, or else each IOMMU
// group whose change differs. Empty: the same plan, safe to carry out.
std::vector<std::string> saved_plan_differences(const SavedPlan& saved, const HostSnapshot& host,
                                                const Plan& plan, const DeviceNames& names);

}  // namespace vfio::cli

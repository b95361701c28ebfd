#include "cli/validate_command.h"

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/exit_codes.h"
#include "cli/manifest_diagnostics.h"
#include "manifest/load_manifests.h"
#include "manifest/manifest_error.h"

namespace vfio::cli {

int run_validate(const ValidateOptions& options, Store& store, std::ostream& out, std::ostream& err,
                 LogStyle style) {
  DesiredState desired;
  try {
    desired = load_manifests(store, options.manifests);
  } catch (const ManifestError& e) {
    return report_manifest_error(e, err, style);
  }
  const auto total = desired.assignments.size();
  const auto to_vfio = static_cast<std::size_t>(
      std::count_if(desired.assignments.begin(), desired.assignments.end(),
                    [](const Assignment& a) { return a.state == WantedState::Vfio; }));
  std::string names;
  for (const auto& path : options.manifests) names += (names.empty() ? "" : " ") + path;
  out << fmt::format("{}: valid, {} assignment{} ({} to vfio, {} to host)", names, total,
                     total == 1 ? "" : "s", to_vfio, total - to_vfio);
  if (desired.files.size() > 1) out << fmt::format(" in {} files", desired.files.size());
  // The owners are said once any file names one: which groups a run may prune depends on them.
  if (desired.owners.size() > 1 ||
      (desired.owners.size() == 1 && !desired.speaks_for(kDefaultOwner))) {
    std::vector<std::string> owners;
    for (const auto& [owner, where] : desired.owners) owners.push_back(owner);
    out << fmt::format("; owner{} {}", owners.size() == 1 ? "" : "s", fmt::join(owners, ", "));
  }
  out << '\n';
  return kExitOk;
}

}  // namespace vfio::cli

#include "cli/validate_command.h"

#include <algorithm>
#include <ostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "cli/exit_codes.h"
#include "cli/manifest_diagnostics.h"
#include "manifest/load_manifests.h"
#include "manifest/manifest_error.h"

namespace vfio::cli {

namespace {

using json = nlohmann::ordered_json;

std::size_t to_vfio(const DesiredState& desired) {
  return static_cast<std::size_t>(
      std::count_if(desired.assignments.begin(), desired.assignments.end(),
                    [](const Assignment& a) { return a.state == WantedState::Vfio; }));
}

// The verdict for scripts: what was asked, and either what the manifests hold or every problem.
json validate_json(const ValidateOptions& options, const DesiredState* desired,
                   const ManifestError* error) {
  json problems = json::array();
  if (error) {
    for (const auto& d : error->diagnostics()) {
      problems.push_back(
          {{"file", d.location.file},
           {"line", d.location.line > 0 ? json(d.location.line) : json(nullptr)},
           {"column", d.location.line > 0 ? json(d.location.column) : json(nullptr)},
           {"problem", d.problem == ManifestProblem::Missing ? "missing" : "invalid"},
           {"message", d.message}});
    }
  }
  json owners = json::array();
  json files = json::array();
  json assignments = nullptr;
  if (desired) {
    for (const auto& [owner, where] : desired->owners) owners.push_back(owner);
    files = desired->files;
    const std::size_t vfio = to_vfio(*desired);
    assignments = {{"total", desired->assignments.size()},
                   {"vfio", vfio},
                   {"host", desired->assignments.size() - vfio}};
  }
  return {{"format_version", kValidateFormatVersion}, {"valid", desired != nullptr},
          {"manifests", options.manifests},           {"files", std::move(files)},
          {"assignments", std::move(assignments)},    {"owners", std::move(owners)},
          {"problems", std::move(problems)}};
}

int exit_code_of(const ManifestError& e) {
  return e.problem() == ManifestProblem::Missing ? kExitManifestMissing : kExitManifestInvalid;
}

}  // namespace

int run_validate(const ValidateOptions& options, Store& store, std::ostream& out, std::ostream& err,
                 LogStyle style) {
  DesiredState desired;
  try {
    desired = load_manifests(store, options.manifests);
  } catch (const ManifestError& e) {
    if (!options.json) return report_manifest_error(e, err, style);
    // Each problem once, in the JSON: not on stderr as well.
    out << validate_json(options, nullptr, &e).dump(2, ' ', false, json::error_handler_t::replace)
        << '\n';
    return exit_code_of(e);
  }
  if (options.json) {
    out << validate_json(options, &desired, nullptr)
               .dump(2, ' ', false, json::error_handler_t::replace)
        << '\n';
    return kExitOk;
  }
  const auto total = desired.assignments.size();
  const auto vfio = to_vfio(desired);
  std::string names;
  for (const auto& path : options.manifests) names += (names.empty() ? "" : " ") + path;
  out << fmt::format("{}: valid, {} assignment{} ({} to vfio, {} to host)", names, total,
                     total == 1 ? "" : "s", vfio, total - vfio);
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

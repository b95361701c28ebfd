#include "cli/status_command.h"

#include <ostream>

#include <spdlog/spdlog.h>

#include "cli/exit_codes.h"
#include "cli/status_json.h"
#include "cli/status_selection.h"
#include "cli/status_text.h"
#include "observe/observe.h"
#include "observe/pci_id_database.h"

namespace vfio::cli {

int run_status(const StatusOptions& options, Sysfs& sysfs, KernelFiles* proc,
               const OwnershipRecord& owned, std::ostream& out, std::size_t width) {
  HostSnapshot snapshot;
  try {
    snapshot = observe(sysfs, ObserveDetail::Full, proc);
  } catch (const ObserveError& e) {
    spdlog::error("{}", e.what());
    return kExitUnavailable;
  }
  if (!options.selectors.empty()) {
    auto selected = select_for_status(snapshot, options.selectors);
    if (const auto* why = std::get_if<std::string>(&selected)) {
      spdlog::error("status: {}", *why);
      return kExitUsage;
    }
    snapshot = narrowed(snapshot, std::get<StatusSelection>(selected));
  }
  for (const auto& finding : snapshot.findings)
    spdlog::info("{}: {}", finding.path, finding.message);
  const PciIdDatabase names;
  if (options.json) {
    out << status_json(snapshot, names, owned).dump(2) << '\n';
  } else {
    print_status_text(snapshot, owned, names, out, {.width = options.full ? 0 : width});
  }
  return kExitOk;
}

}  // namespace vfio::cli

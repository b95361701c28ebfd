#include "cli/status_command.h"

#include <ostream>

#include <spdlog/spdlog.h>

#include "cli/exit_codes.h"
#include "cli/status_json.h"
#include "cli/status_text.h"
#include "observe/observe.h"
#include "observe/pci_id_database.h"

namespace vfio::cli {

int run_status(const StatusOptions& options, Sysfs& sysfs, KernelFiles* proc,
               const OwnershipRecord& owned, std::ostream& out) {
  PciIdDatabase names;
  HostSnapshot snapshot;
  try {
    snapshot = observe(sysfs, &names, ObserveDetail::Full, proc);
  } catch (const ObserveError& e) {
    spdlog::error("{}", e.what());
    return kExitUnavailable;
  }
  for (const auto& finding : snapshot.findings)
    spdlog::info("{}: {}", finding.path, finding.message);
  if (options.json) {
    out << status_json(snapshot, owned).dump(2) << '\n';
  } else {
    print_status_text(snapshot, owned, out);
  }
  return kExitOk;
}

}  // namespace vfio::cli

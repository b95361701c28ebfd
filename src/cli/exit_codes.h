// Exit codes of the contract (docs/contract.md), sysexits.h values where they exist.
#pragma once

namespace vfio::cli {

enum ExitCode : int {
  kExitOk = 0,                // applied, or nothing to do
  kExitApplyFailed = 1,       // an apply step failed (that group rolled back)
  kExitChangesPending = 2,    // plan --detailed-exitcode only
  kExitPlanStale = 3,         // apply --plan: the host or the plan changed since; nothing written
  kExitUsage = 64,            // EX_USAGE
  kExitManifestInvalid = 65,  // EX_DATAERR
  kExitManifestMissing = 66,  // EX_NOINPUT
  kExitUnavailable = 69,      // EX_UNAVAILABLE: no active IOMMU, no vfio-pci, no PCI sysfs
  kExitCannotCreate = 73,     // EX_CANTCREAT: plan --out could not write its file
  kExitLocked = 75,           // EX_TEMPFAIL: another run holds the lock
  kExitNotPermitted = 77,     // EX_NOPERM
  kExitBlocked = 78,          // EX_CONFIG: some group was refused as blocked
};

}  // namespace vfio::cli

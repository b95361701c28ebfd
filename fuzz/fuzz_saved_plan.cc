// The saved plan decoder (apply --plan FILE) on any bytes: a hand-edited, truncated or hostile
// plan file. It must never crash or throw. A file it takes must hold facts that give its own
// fingerprint; its manifests decode or fail with a ManifestError only; comparing it with an
// empty host and plan names differences (the fingerprint of no devices is another) without
// throwing, and comparing its facts with themselves names none.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <variant>

#include "cli/saved_plan.h"
#include "manifest/manifest_error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  auto decoded = vfio::cli::decode_saved_plan(bytes);
  const auto* saved = std::get_if<vfio::cli::SavedPlan>(&decoded);
  if (!saved) return 0;
  if (vfio::fingerprint(saved->observed) != saved->fingerprint) std::abort();
  if (!vfio::describe_changes(saved->observed, saved->observed).empty()) std::abort();
  try {
    (void)vfio::decode_manifest_sources(saved->manifests);
  } catch (const vfio::ManifestError&) {
  }
  const vfio::HostSnapshot empty_host;
  const vfio::Plan empty_plan;
  (void)vfio::cli::saved_plan_differences(*saved, empty_host, empty_plan, vfio::NoDeviceNames{});
  return 0;
}

// The ownership record decoder on any bytes (a hand-edited, truncated or hostile ownership.json):
// it must never crash or throw; whatever it keeps must encode, and decode back to the same
// record with no problem (so a later run reads what this one saves).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "apply/ownership_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  const vfio::LoadedRecord loaded = vfio::decode_ownership(bytes, "ownership.json", "boot-now");
  if (loaded.unusable_file && !loaded.record.groups.empty()) std::abort();
  const std::string saved = vfio::encode_ownership(loaded.record, "boot-now");
  const vfio::LoadedRecord again = vfio::decode_ownership(saved, "ownership.json", "boot-now");
  if (!again.problems.empty() || again.record.groups.size() != loaded.record.groups.size()) {
    std::abort();
  }
  if (vfio::encode_ownership(again.record, "boot-now") != saved) std::abort();
  return 0;
}

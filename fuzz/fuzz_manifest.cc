// The manifest decoder on any bytes: it must return a desired state or a ManifestError, never
// crash, hang or throw anything else; and every problem it reports must name a place in the file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "manifest/decode_manifest.h"
#include "manifest/manifest_error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    vfio::ManifestDecoder decoder;
    decoder.add_text(text, "fuzz.yaml");
    decoder.add_text(text, "again.yaml");  // the checks across files of a set, too
    const vfio::DesiredState state = std::move(decoder).finish();
    for (const auto& a : state.assignments) {
      if (a.name.empty() || a.owner.empty()) std::abort();  // decoded means named and owned
    }
  } catch (const vfio::ManifestError& e) {
    for (const auto& d : e.diagnostics()) {
      if (d.location.file.empty() || d.message.empty()) std::abort();
    }
  }
  return 0;
}

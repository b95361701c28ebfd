// Manifest text -> DesiredState, with every problem reported at its FILE:LINE:COLUMN.
//
// The format is version 1 of docs/contract.md, described for editors by
// schemas/manifest.schema.json. Decoding reads no files and no sysfs.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "manifest/desired_state.h"
#include "manifest/manifest_error.h"

namespace vfio {

struct YamlNode;
struct YamlEntry;
class Checker;

// Larger files are refused before they are parsed.
inline constexpr std::size_t kMaxManifestBytes = 1024 * 1024;

// Decodes the files of one manifest set, in order, and checks them against each other: names
// unique across all files (whatever their owners), one assignment per exact address, settings in
// one file only. Collects
// every problem it can find rather than stopping at the first.
class ManifestDecoder {
 public:
  // Decodes one file's text; its problems are kept for finish().
  void add_text(const std::string& text, const std::string& file);
  // A problem found outside the text (a missing file, say).
  void add_problem(Diagnostic diagnostic);

  // The desired state, or a ManifestError holding every problem found.
  DesiredState finish() &&;

 private:
  struct AddressUse {
    std::string assignment;
    SourceLocation location;
  };

  void error(const SourceLocation& at, std::string message);
  void decode_document(const YamlNode& root, const std::string& file);
  void decode_owner(const YamlNode& root, const std::string& file);
  void decode_settings(const YamlEntry& entry);
  void decode_assignment(const YamlNode& node, std::size_t index);
  // The assignment's name when it is a good one (false: reported).
  bool decode_name(const YamlEntry& name, Checker& check, Assignment& assignment);
  void decode_options(const YamlNode& node, Checker& check, Assignment& assignment);
  void decode_driver(const YamlEntry& driver, Checker& check, Assignment& assignment);
  // Names are unique across the set, and so is each exact address.
  void note_name(const std::string& name, const SourceLocation& at);
  void note_address(const PciAddress& address, const std::string& what, const SourceLocation& at);
  void decode_match(const YamlNode& node, const std::string& what, Assignment& assignment,
                    const SourceLocation*& address_at);

  DesiredState state_;
  std::string owner_ = kDefaultOwner;  // the owner of the file being decoded
  std::vector<Diagnostic> diagnostics_;
  std::map<std::string, SourceLocation> names_;  // where each name was first used
  std::map<PciAddress, AddressUse> addresses_;   // exact addresses already selected
};

// Decodes one file's text on its own (tests, and the files of load_manifests).
DesiredState decode_manifest_text(const std::string& text, const std::string& file);

}  // namespace vfio

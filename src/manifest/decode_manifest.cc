#include "manifest/decode_manifest.h"

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <optional>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "manifest/manifest_checker.h"
#include "manifest/manifest_values.h"
#include "manifest/yaml_reader.h"
#include "sysfs/kernel_names.h"
#include "util/did_you_mean.h"
#include "util/utf8.h"

namespace vfio {
namespace {

const Keys kTopKeys = {"version", "owner", "settings", "assignments"};
const Keys kSettingsKeys = {"probe-timeout", "jobs"};
const Keys kAssignmentKeys = {"name", "state",      "match",  "count",
                              "vfs",  "companions", "driver", "force"};
const Keys kMatchKeys = {"address", "vendor",           "device",
                         "class",   "subsystem-vendor", "subsystem-device"};

}  // namespace

void ManifestDecoder::error(const SourceLocation& at, std::string message) {
  diagnostics_.push_back({at, std::move(message), ManifestProblem::Invalid});
}

void ManifestDecoder::add_problem(Diagnostic diagnostic) {
  diagnostics_.push_back(std::move(diagnostic));
}

void ManifestDecoder::add_text(const std::string& text, const std::string& file) {
  state_.files.push_back(file);
  if (text.size() > kMaxManifestBytes) {
    error({file, 0, 0}, fmt::format("the file is {} bytes; manifests are limited to {} bytes "
                                    "(1 MiB)",
                                    text.size(), kMaxManifestBytes));
    return;
  }
  if (auto bad = find_invalid_utf8(text)) {
    error({file, bad->line, bad->column},
          fmt::format("invalid UTF-8 (byte 0x{:02x}); manifests must be UTF-8 text", bad->byte));
    return;
  }
  const auto first = static_cast<std::ptrdiff_t>(diagnostics_.size());
  auto root = read_yaml(text, file, diagnostics_);
  if (root) decode_document(*root, file);
  // In reading order, whichever check found them (the reader's come first otherwise).
  std::stable_sort(diagnostics_.begin() + first, diagnostics_.end(),
                   [](const Diagnostic& a, const Diagnostic& b) {
                     return std::pair(a.location.line, a.location.column) <
                            std::pair(b.location.line, b.location.column);
                   });
}

void ManifestDecoder::decode_document(const YamlNode& root, const std::string& file) {
  Checker check(diagnostics_);
  if (root.kind == YamlNode::Kind::Null) {
    error({file, 1, 1}, "empty manifest");
    return;
  }
  if (root.kind != YamlNode::Kind::Mapping) {
    error(root.location, fmt::format("a manifest must be a mapping of version, settings and "
                                     "assignments, not {}",
                                     described(root)));
    return;
  }
  auto suggested = check.check_keys(root, "the manifest", kTopKeys, {"version"});
  // A file may hold only settings (a manifest.d/ settings file); otherwise it lists assignments.
  if (!root.find("assignments") && !root.find("settings") &&
      std::find(suggested.begin(), suggested.end(), "assignments") == suggested.end())
    error(root.location, "the manifest is missing required key 'assignments'");

  if (const YamlEntry* version = root.find("version")) {
    const YamlNode& v = version->value;
    if (v.kind == YamlNode::Kind::Scalar && scalar_type(v) == ScalarType::Int && v.value != "1") {
      error(v.location, fmt::format("unsupported manifest version {}; this vfio-reconcile "
                                    "reads version 1",
                                    v.value));
    } else {
      check.integer_of(*version, 1, 1);
    }
  }
  decode_owner(root, file);
  if (const YamlEntry* settings = root.find("settings")) decode_settings(*settings);
  if (const YamlEntry* assignments = root.find("assignments")) {
    if (check.expect_kind(*assignments, YamlNode::Kind::Sequence, "a list")) {
      for (std::size_t i = 0; i < assignments->value.items.size(); ++i)
        decode_assignment(assignments->value.items[i], i);
    }
  }
}

// The file's owner: its `owner:`, or the default one. A file with an `assignments` list speaks
// for its owner (an empty list too: that owner then holds nothing); a settings-only file does
// not, and naming an owner there would mislead.
void ManifestDecoder::decode_owner(const YamlNode& root, const std::string& file) {
  Checker check(diagnostics_);
  owner_ = kDefaultOwner;
  SourceLocation declared{file, 0, 0};
  const YamlEntry* entry = root.find("owner");
  if (entry) {
    if (auto text = check.string_of(*entry, "sandbox-7")) {
      std::string why;
      if (is_owner_name(*text, &why)) {
        owner_ = *text;
        declared = entry->value.location;
      } else {
        error(entry->value.location, why);
      }
    }
  }
  if (root.find("assignments")) {
    state_.owners.emplace(owner_, declared);
  } else if (entry) {
    error(entry->key.location,
          "'owner' says whose assignments this file lists, but it has no 'assignments' (a "
          "settings-only file belongs to no owner): remove 'owner', or add 'assignments'");
  }
}

void ManifestDecoder::decode_settings(const YamlEntry& entry) {
  Checker check(diagnostics_);
  if (state_.settings.location) {
    error(entry.key.location, fmt::format("settings were already given at {}; give them in one "
                                          "file only",
                                          state_.settings.location->str()));
    return;
  }
  state_.settings.location = entry.key.location;
  if (!check.expect_kind(entry, YamlNode::Kind::Mapping, "a mapping")) return;
  check.check_keys(entry.value, "settings", kSettingsKeys, {});
  if (const YamlEntry* timeout = entry.value.find("probe-timeout")) {
    if (scalar_type(timeout->value) == ScalarType::Int) {
      error(timeout->value.location,
            fmt::format("'probe-timeout' needs a unit: \"{0}s\" or \"{0}ms\", not the number {0}",
                        timeout->value.value));
    } else if (auto text = check.string_of(*timeout)) {
      std::string why;
      if (auto duration = parse_duration(*text, &why)) {
        state_.settings.probe_timeout = *duration;
      } else {
        error(timeout->value.location, fmt::format("'probe-timeout' {}", why));
      }
    }
  }
  if (const YamlEntry* jobs = entry.value.find("jobs")) {
    if (auto value = check.integer_of(*jobs, 1, 64)) state_.settings.jobs = unsigned(*value);
  }
}

void ManifestDecoder::decode_assignment(const YamlNode& node, std::size_t index) {
  Checker check(diagnostics_);
  if (node.kind != YamlNode::Kind::Mapping) {
    error(node.location, fmt::format("each assignment must be a mapping with name, state and "
                                     "match, not {}",
                                     described(node)));
    return;
  }
  Assignment assignment;
  assignment.location = node.location;
  assignment.owner = owner_;
  const YamlEntry* name = node.find("name");
  const bool valid_name = name && decode_name(*name, check, assignment);
  // How problems name it: by its name once it has a good one.
  const std::string what = valid_name ? fmt::format("assignment '{}'", assignment.name)
                                      : fmt::format("assignment #{}", index + 1);
  check.check_keys(node, what, kAssignmentKeys, {"name", "state", "match"});
  if (valid_name) note_name(assignment.name, name->value.location);

  if (const YamlEntry* state = node.find("state")) {
    if (auto word = check.word_of(*state, {"vfio", "host"}))
      assignment.state = *word == "vfio" ? WantedState::Vfio : WantedState::Host;
  }
  const SourceLocation* address_at = nullptr;
  if (const YamlEntry* match = node.find("match")) {
    if (check.expect_kind(*match, YamlNode::Kind::Mapping, "a mapping"))
      decode_match(match->value, what, assignment, address_at);
  }
  decode_options(node, check, assignment);
  if (assignment.match.address && address_at)
    note_address(*assignment.match.address, what, *address_at);
  state_.assignments.push_back(std::move(assignment));
}

bool ManifestDecoder::decode_name(const YamlEntry& name, Checker& check, Assignment& assignment) {
  auto text = check.string_of(name);
  if (!text) return false;
  std::string why;
  if (!is_assignment_name(*text, &why)) {
    error(name.value.location, why);
    return false;
  }
  assignment.name = *text;
  return true;
}

void ManifestDecoder::note_name(const std::string& name, const SourceLocation& at) {
  auto [first, inserted] = names_.emplace(name, at);
  if (!inserted) {
    error(at, fmt::format("duplicate assignment name '{}'; first used at {}", name,
                          first->second.str()));
  }
}

void ManifestDecoder::note_address(const PciAddress& address, const std::string& what,
                                   const SourceLocation& at) {
  auto [first, inserted] = addresses_.emplace(address, AddressUse{what, at});
  if (!inserted) {
    error(at, fmt::format("address {} is already selected by {} at {}", address.str(),
                          first->second.assignment, first->second.location.str()));
  }
}

// count, vfs, companions, force: what an assignment may add to its name, state and match.
void ManifestDecoder::decode_options(const YamlNode& node, Checker& check, Assignment& assignment) {
  if (const YamlEntry* count = node.find("count")) {
    if (auto value = check.integer_of(*count, 1, 65536)) {
      assignment.count = unsigned(*value);
      if (assignment.match.address && *value != 1) {
        error(count->value.location,
              fmt::format("'count' is {}, but a match on an exact address selects at most one "
                          "device",
                          *value));
      }
    }
  }
  if (const YamlEntry* vfs = node.find("vfs")) {
    // At most 65535 (sriov_numvfs is a u16); the PF's own sriov_totalvfs is checked at plan time.
    if (auto value = check.integer_of(*vfs, 1, 65535)) {
      if (assignment.state == WantedState::Host) {
        error(vfs->value.location,
              "'vfs' asks for a PF's VFs on vfio-pci; an assignment with 'state: host' cannot "
              "have it (an empty manifest gives the PF its VFs back)");
      } else {
        assignment.vfs = unsigned(*value);
        assignment.vfs_location = vfs->value.location;
      }
    }
  }
  if (const YamlEntry* companions = node.find("companions")) {
    if (auto word = check.word_of(*companions, {"auto", "listed"}))
      assignment.companions = *word == "auto" ? Companions::Auto : Companions::Listed;
  }
  if (const YamlEntry* driver = node.find("driver")) decode_driver(*driver, check, assignment);
  if (const YamlEntry* force = node.find("force")) {
    if (auto reason = check.string_of(*force)) {
      if (reason->find_first_not_of(" \t\r\n") == std::string::npos) {
        error(force->value.location,
              "'force' must give the reason for forcing, not an empty "
              "string");
      } else {
        assignment.force = *reason;
      }
    }
  }
}

// `driver:` vfio-pci (the default), auto, or a vfio driver's name; claims only.
void ManifestDecoder::decode_driver(const YamlEntry& driver, Checker& check,
                                    Assignment& assignment) {
  auto text = check.string_of(driver);
  if (!text) return;
  DriverChoice& choice = assignment.driver;
  choice.location = driver.value.location;
  if (assignment.state == WantedState::Host) {
    error(driver.value.location,
          "'driver' says which vfio driver claims the devices; an assignment with 'state: host' "
          "cannot have it (released devices go back to the driver they had, or any host driver)");
    return;
  }
  if (*text == "auto") {
    choice.kind = DriverChoice::Kind::Auto;
    return;
  }
  std::string why;
  auto name = parse_driver_name(*text, &why);
  if (!name) {
    error(driver.value.location, fmt::format("'driver' {}", why));
    return;
  }
  // vfio-pci written out is the default: any vfio driver a device is on already satisfies it.
  if (*name != kVfioPciDriver) {
    choice.kind = DriverChoice::Kind::Named;
    choice.name = *name;
  }
}

void ManifestDecoder::decode_match(const YamlNode& node, const std::string& what,
                                   Assignment& assignment, const SourceLocation*& address_at) {
  Checker check(diagnostics_);
  DeviceMatch& match = assignment.match;
  match.location = node.location;
  check.check_keys(node, "match", kMatchKeys, {});
  bool any = false;
  for (auto key : kMatchKeys) any = any || node.find(key);
  if (!any) {
    error(node.location, fmt::format("the match of {} must give at least one of: {}", what,
                                     join_keys(kMatchKeys)));
  }
  if (const YamlEntry* address = node.find("address")) {
    if (auto text = check.string_of(*address, "0000:01:00.0")) {
      std::string why;
      match.address = PciAddress::parse(*text, &why);
      if (match.address) {
        address_at = &address->value.location;
      } else {
        error(address->value.location, "invalid address " + why);
      }
    }
  }
  auto id = [&](std::string_view key, std::optional<uint16_t>& out) {
    const YamlEntry* entry = node.find(key);
    if (!entry) return;
    auto text = check.string_of(*entry, "8086");
    if (!text) return;
    std::string why;
    out = parse_pci_id(*text, &why);
    if (!out) error(entry->value.location, fmt::format("'{}' {}", key, why));
  };
  id("vendor", match.vendor);
  id("device", match.device);
  id("subsystem-vendor", match.subsystem_vendor);
  id("subsystem-device", match.subsystem_device);
  if (const YamlEntry* class_entry = node.find("class")) {
    if (auto text = check.string_of(*class_entry, "0x0200")) {
      std::string why;
      match.class_prefix = parse_class_prefix(*text, &why);
      if (!match.class_prefix) error(class_entry->value.location, "'class' " + why);
    }
  }
}

DesiredState ManifestDecoder::finish() && {
  if (!diagnostics_.empty()) throw ManifestError(std::move(diagnostics_));
  return std::move(state_);
}

DesiredState decode_manifest_text(const std::string& text, const std::string& file) {
  ManifestDecoder decoder;
  decoder.add_text(text, file);
  return std::move(decoder).finish();
}

}  // namespace vfio

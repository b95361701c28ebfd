#include "cli/saved_plan.h"

#include <cstdint>
#include <limits>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/plan_json.h"
#include "sysfs/pci_address.h"
#include "sysfs/sys_path.h"
#include "util/strict_json.h"
#include "util/utf8.h"

namespace vfio::cli {
namespace {

using json = nlohmann::json;

// A value as JSON spells it, so that a control character in an edited file cannot garble the
// message it is shown in.
std::string as_json(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// Thrown inside the decoder only, caught at its edge: a problem and where it is.
struct Bad {
  std::string what;
};

const json& member(const json& object, const char* key, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end()) throw Bad{fmt::format("{}{} is missing", where, key)};
  return *it;
}

const json& object_at(const json& object, const char* key, const std::string& where) {
  const json& value = member(object, key, where);
  if (!value.is_object()) throw Bad{fmt::format("{}{} is not an object", where, key)};
  return value;
}

const json& array_at(const json& object, const char* key, const std::string& where) {
  const json& value = member(object, key, where);
  if (!value.is_array()) throw Bad{fmt::format("{}{} is not a list", where, key)};
  return value;
}

bool bool_at(const json& object, const char* key, const std::string& where) {
  const json& value = member(object, key, where);
  if (!value.is_boolean()) throw Bad{fmt::format("{}{} is not true or false", where, key)};
  return value.get<bool>();
}

std::string string_at(const json& object, const char* key, const std::string& where) {
  const json& value = member(object, key, where);
  if (!value.is_string()) throw Bad{fmt::format("{}{} is not a string", where, key)};
  auto text = value.get<std::string>();
  if (find_invalid_utf8(text)) throw Bad{fmt::format("{}{} is not UTF-8", where, key)};
  return text;
}

// A driver name becomes a message and is compared, never a path here; still, only what could
// be one (a plain sysfs path component) is taken.
std::optional<std::string> driver_at(const json& object, const char* key,
                                     const std::string& where) {
  const json& value = member(object, key, where);
  if (value.is_null()) return std::nullopt;
  if (!value.is_string() || !SysPath::is_valid_component(value.get<std::string>()) ||
      find_invalid_utf8(value.get<std::string>())) {
    throw Bad{fmt::format("{}{} {} is neither a driver name nor null", where, key, as_json(value))};
  }
  return value.get<std::string>();
}

FingerprintDevice decode_device(const json& entry, const std::string& where) {
  if (!entry.is_object()) throw Bad{where + " is not an object"};
  FingerprintDevice d;
  const std::string prefix = where + ".";
  d.address = string_at(entry, "address", prefix);
  std::string why;
  if (!PciAddress::parse(d.address, &why)) {
    throw Bad{
        fmt::format("{}address {} is not a PCI address: {}", prefix, as_json(d.address), why)};
  }
  d.identity = string_at(entry, "identity", prefix);
  if (d.identity.empty() || d.identity.size() > 64 ||
      d.identity.find_first_not_of("0123456789abcdef:") != std::string::npos) {
    throw Bad{fmt::format("{}identity {} is not vendor:device:...:kind in hex", prefix,
                          as_json(d.identity))};
  }
  d.driver = driver_at(entry, "driver", prefix);
  d.driver_override = driver_at(entry, "driver_override", prefix);
  const json& group = member(entry, "iommu_group", prefix);
  if (!group.is_null()) {
    if (!group.is_number_unsigned() ||
        group.get<std::uint64_t>() > std::numeric_limits<unsigned>::max()) {
      throw Bad{fmt::format("{}iommu_group {} is neither a group number nor null", prefix,
                            as_json(group))};
    }
    d.iommu_group = static_cast<unsigned>(group.get<std::uint64_t>());
  }
  return d;
}

SavedPlan decode(const json& root) {
  if (!root.is_object()) throw Bad{"the file holds no JSON object"};
  const json& format = member(root, "saved_plan_format", "");
  if (format != kSavedPlanFormat) {
    throw Bad{fmt::format("saved_plan_format {} is not {}, the one this version reads",
                          as_json(format), kSavedPlanFormat)};
  }
  SavedPlan saved;
  saved.tool_version = string_at(root, "tool_version", "");
  saved.prune = bool_at(root, "prune", "");
  const json& manifests = array_at(root, "manifests", "");
  for (std::size_t i = 0; i < manifests.size(); ++i) {
    const std::string where = fmt::format("manifests[{}].", i);
    if (!manifests[i].is_object()) throw Bad{fmt::format("manifests[{}] is not an object", i)};
    saved.manifests.push_back(
        {string_at(manifests[i], "file", where), string_at(manifests[i], "text", where)});
  }
  const json& observed = object_at(root, "observed", "");
  saved.fingerprint = string_at(observed, "fingerprint", "observed.");
  saved.observed.iommu_active = bool_at(observed, "iommu_active", "observed.");
  saved.observed.vfio_pci_loaded = bool_at(observed, "vfio_pci_loaded", "observed.");
  const json& devices = array_at(observed, "devices", "observed.");
  saved.observed.devices.reserve(devices.size());
  for (std::size_t i = 0; i < devices.size(); ++i) {
    saved.observed.devices.push_back(
        decode_device(devices[i], fmt::format("observed.devices[{}]", i)));
  }
  // The facts are what names a change to the host: facts edited apart from their fingerprint
  // would name the wrong ones.
  if (fingerprint(saved.observed) != saved.fingerprint) {
    throw Bad{
        "observed.devices do not give observed.fingerprint: the file was changed after "
        "it was saved"};
  }
  saved.plan = object_at(root, "plan", "");
  return saved;
}

// The member `key` of `value`, null when `value` is no object or has none: the saved plan's
// own plan is compared, never trusted to have plan_json()'s shape.
const json& field(const json& value, const char* key) {
  static const json kNull;
  if (!value.is_object()) return kNull;
  auto it = value.find(key);
  return it == value.end() ? kNull : *it;
}

// "IOMMU group 7", or for a change of no group (a device without an IOMMU) its first device.
std::string change_label(const json& change) {
  const json& group = field(change, "group");
  if (group.is_number()) return fmt::format("IOMMU group {}", group.dump());
  const json& devices = field(change, "devices");
  if (devices.is_array() && !devices.empty()) {
    return fmt::format("{} (no IOMMU group)", as_json(field(devices[0], "address")));
  }
  return "a change of no group";
}

// A word of the file as it is when it is one (claim, set-vfs, devices), else as JSON spells it.
std::string word(const json& value) {
  if (value.is_string()) {
    const auto& text = value.get_ref<const std::string&>();
    if (!text.empty() && text.size() <= 32 &&
        text.find_first_not_of("abcdefghijklmnopqrstuvwxyz_-") == std::string::npos) {
      return text;
    }
  }
  return as_json(value);
}

std::string action_of(const json& change) {
  return word(field(change, "action"));
}

// The changes of a plan_json(), by label, in the plan's order.
std::vector<std::pair<std::string, const json*>> changes_of(const json& plan) {
  std::vector<std::pair<std::string, const json*>> out;
  const json& changes = field(plan, "changes");
  if (!changes.is_array()) return out;
  for (const auto& c : changes) {
    if (c.is_object()) out.emplace_back(change_label(c), &c);
  }
  return out;
}

// What differs between two plan_json()s, group by group; then any other part of the plan.
std::vector<std::string> plan_differences(const json& saved, const json& now) {
  std::vector<std::string> lines;
  const auto before = changes_of(saved);
  const auto after = changes_of(now);
  std::map<std::string, const json*> after_by_label(after.begin(), after.end());
  std::map<std::string, const json*> before_by_label(before.begin(), before.end());
  for (const auto& [label, was] : before) {
    auto it = after_by_label.find(label);
    if (it == after_by_label.end()) {
      lines.push_back(fmt::format("{}: planned {}, now no change", label, action_of(*was)));
    } else if (action_of(*was) != action_of(*it->second)) {
      lines.push_back(
          fmt::format("{}: planned {}, now {}", label, action_of(*was), action_of(*it->second)));
    } else if (*was != *it->second) {
      std::vector<std::string> keys;
      for (const auto& [key, value] : was->items()) {
        if (value != field(*it->second, key.c_str())) keys.push_back(word(json(key)));
      }
      lines.push_back(fmt::format("{}: {} planned, but its {} differ now", label, action_of(*was),
                                  fmt::join(keys, ", ")));
    }
  }
  for (const auto& [label, is] : after) {
    if (!before_by_label.count(label)) {
      lines.push_back(fmt::format("{}: not in the saved plan, now {}", label, action_of(*is)));
    }
  }
  if (lines.empty()) {
    for (const auto& [key, value] : saved.items()) {
      if (key != "changes" && value != field(now, key.c_str())) {
        lines.push_back(fmt::format("the plan's {} differ now", word(json(key))));
      }
    }
  }
  return lines;
}

}  // namespace

std::string encode_saved_plan(const std::vector<ManifestSource>& manifests, bool prune,
                              const HostSnapshot& host, const Plan& plan,
                              const DeviceNames& names) {
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (const auto& m : manifests) files.push_back({{"file", m.file}, {"text", m.text}});
  const FingerprintFacts facts = fingerprint_facts(host);
  nlohmann::ordered_json devices = nlohmann::ordered_json::array();
  for (const auto& d : facts.devices) {
    devices.push_back(
        {{"address", d.address},
         {"identity", d.identity},
         {"driver", d.driver ? nlohmann::ordered_json(*d.driver) : nullptr},
         {"driver_override",
          d.driver_override ? nlohmann::ordered_json(*d.driver_override) : nullptr},
         {"iommu_group", d.iommu_group ? nlohmann::ordered_json(*d.iommu_group) : nullptr}});
  }
  nlohmann::ordered_json file = {
      {"saved_plan_format", kSavedPlanFormat},
      {"tool_version", VFIO_RECONCILE_VERSION},
      {"prune", prune},
      {"manifests", std::move(files)},
      {"observed",
       {{"fingerprint", fingerprint(facts)},
        {"iommu_active", facts.iommu_active},
        {"vfio_pci_loaded", facts.vfio_pci_loaded},
        {"devices", std::move(devices)}}},
      {"plan", plan_json(plan, names)},
  };
  // Bytes a manifest could hold that are not UTF-8 are replaced, never a throw: such a manifest
  // does not decode anyway.
  return file.dump(1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + '\n';
}

std::variant<SavedPlan, std::string> decode_saved_plan(std::string_view text) {
  auto parsed = parse_strict_json(text);
  if (const auto* problem = std::get_if<JsonProblem>(&parsed)) {
    return "not JSON: " + problem->to_string();
  }
  try {
    return decode(std::get<json>(parsed));
  } catch (const Bad& bad) {
    return bad.what;
  }
}

std::vector<std::string> saved_plan_differences(const SavedPlan& saved, const HostSnapshot& host,
                                                const Plan& plan, const DeviceNames& names) {
  if (saved.tool_version != VFIO_RECONCILE_VERSION) {
    return {fmt::format("it was made by vfio-reconcile {}, this is {}", saved.tool_version,
                        VFIO_RECONCILE_VERSION)};
  }
  const FingerprintFacts now = fingerprint_facts(host);
  if (fingerprint(now) != saved.fingerprint) {
    auto lines = describe_changes(saved.observed, now);
    // Facts equal under another hash cannot happen but for a collision; say so rather than
    // nothing.
    if (lines.empty()) lines.push_back("the host's fingerprint differs");
    return lines;
  }
  // plan_json() is ordered; the file's JSON is not: compare as the same kind of value.
  return plan_differences(
      saved.plan,
      json::parse(plan_json(plan, names).dump(-1, ' ', false, json::error_handler_t::replace)));
}

}  // namespace vfio::cli

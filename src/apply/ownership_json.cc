#include "apply/ownership_json.h"

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "manifest/manifest_values.h"
#include "sysfs/sys_path.h"
#include "util/strict_json.h"
#include "util/utf8.h"

namespace vfio {
namespace {

using json = nlohmann::json;

constexpr const char* kOwnsNothing = "this run owns nothing it bound earlier";

// A value as JSON spells it, so a control character or a stray quote in a hand-edited file
// cannot garble the problem line it is shown in.
std::string as_json(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}
std::string as_json(const std::string& text) {
  return as_json(json(text));
}

const json* member(const json& object, const char* key) {
  auto it = object.find(key);
  return it == object.end() ? nullptr : &*it;
}

// Driver names become sysfs path components (bus/pci/drivers/<name>/unbind), and an override is
// what driver_override names: both must be one plain name.
bool is_driver_name(std::string_view name) {
  return SysPath::is_valid_component(name) && !find_invalid_utf8(name);
}

// What the planner and the apply engine rely on beyond the JSON types; encode refuses a group
// that breaks it and decode drops one, so whatever is written can be read back.
std::optional<std::string> group_problem(const OwnedGroup& group) {
  std::string why;
  if (!is_owner_name(group.owner, &why)) {
    return fmt::format("owner {} is not an owner name: {}", as_json(group.owner), why);
  }
  if (!is_assignment_name(group.assignment, &why)) {
    return fmt::format("assignment {} is not an assignment name: {}", as_json(group.assignment),
                       why);
  }
  std::set<PciAddress> pfs;
  for (const auto& v : group.vfs) {
    if (!pfs.insert(v.pf).second) return fmt::format("PF {} is listed more than once", v.pf.str());
    if (v.original_count > 65535 || v.original_drivers.size() > v.original_count) {
      return fmt::format("PF {}: {} original VF drivers for an original count of {}", v.pf.str(),
                         v.original_drivers.size(), v.original_count);
    }
    for (const auto& name : v.original_drivers) {
      if (name && !is_driver_name(*name)) {
        return fmt::format("PF {}: original VF driver {} is not a driver name", v.pf.str(),
                           as_json(*name));
      }
    }
  }
  std::set<PciAddress> seen;
  for (const auto& device : group.devices) {
    if (!seen.insert(device.address).second) {
      return fmt::format("device {} is listed more than once", device.address.str());
    }
    for (const auto& [key, name] : {std::pair{"original_driver", &device.original_driver},
                                    std::pair{"original_override", &device.original_override},
                                    std::pair{"vfio_driver", &device.vfio_driver}}) {
      if (*name && !is_driver_name(**name)) {
        return fmt::format("device {}: {} {} is not a driver name (one sysfs path component)",
                           device.address.str(), key, as_json(**name));
      }
    }
  }
  return std::nullopt;
}

// Problems name the device by its address once that is read, by its index before.
std::optional<std::string> decode_device(const json& entry, std::size_t index,
                                         OwnedDevice& device) {
  if (!entry.is_object()) return fmt::format("devices[{}]: not an object", index);
  const json* address = member(entry, "address");
  if (!address) return fmt::format("devices[{}]: no address", index);
  if (!address->is_string()) {
    return fmt::format("devices[{}]: address {} is not a string", index, as_json(*address));
  }
  std::string why;
  auto parsed = PciAddress::parse(address->get_ref<const std::string&>(), &why);
  if (!parsed) {
    return fmt::format("devices[{}]: address {} is not a PCI address: {}", index, as_json(*address),
                       why);
  }
  device.address = *parsed;
  for (const auto& [key, field] : {std::pair{"original_driver", &device.original_driver},
                                   std::pair{"original_override", &device.original_override}}) {
    const json* value = member(entry, key);
    // Absent is not null: null is a recorded fact (there was none), absent is a damaged entry.
    if (!value) return fmt::format("device {}: no {}", device.address.str(), key);
    if (value->is_null()) continue;
    if (!value->is_string()) {
      return fmt::format("device {}: {} {} is neither a name nor null", device.address.str(), key,
                         as_json(*value));
    }
    *field = value->get<std::string>();
  }
  // Added with variant drivers; absent: vfio-pci.
  if (const json* driver = member(entry, "vfio_driver")) {
    if (!driver->is_string()) {
      return fmt::format("device {}: vfio_driver {} is not a name", device.address.str(),
                         as_json(*driver));
    }
    device.vfio_driver = driver->get<std::string>();
  }
  return std::nullopt;
}

// One PF of a group's `vfs` list (format 3).
std::optional<std::string> decode_vfs(const json& entry, std::size_t index, OwnedVfs& vfs) {
  if (!entry.is_object()) return fmt::format("vfs[{}]: not an object", index);
  const json* pf = member(entry, "pf");
  if (!pf || !pf->is_string()) return fmt::format("vfs[{}]: no pf address", index);
  std::string why;
  auto parsed = PciAddress::parse(pf->get_ref<const std::string&>(), &why);
  if (!parsed) {
    return fmt::format("vfs[{}]: pf {} is not a PCI address: {}", index, as_json(*pf), why);
  }
  vfs.pf = *parsed;
  const json* count = member(entry, "original_count");
  if (!count || !count->is_number_unsigned() || count->get<std::uint64_t>() > 65535) {
    return fmt::format("PF {}: original_count is not a whole number from 0 to 65535", vfs.pf.str());
  }
  vfs.original_count = static_cast<unsigned>(count->get<std::uint64_t>());
  const json* autoprobe = member(entry, "original_autoprobe");
  if (!autoprobe || !autoprobe->is_boolean()) {
    return fmt::format("PF {}: original_autoprobe is not true or false", vfs.pf.str());
  }
  vfs.original_autoprobe = autoprobe->get<bool>();
  const json* drivers = member(entry, "original_drivers");
  if (!drivers || !drivers->is_array()) {
    return fmt::format("PF {}: no list of original_drivers", vfs.pf.str());
  }
  for (const auto& driver : *drivers) {
    if (driver.is_null()) {
      vfs.original_drivers.emplace_back();
    } else if (driver.is_string()) {
      vfs.original_drivers.emplace_back(driver.get<std::string>());
    } else {
      return fmt::format("PF {}: an original VF driver {} is neither a name nor null", vfs.pf.str(),
                         as_json(driver));
    }
  }
  return std::nullopt;
}

// Fills `group` from `entry` of a file of format `version`. `numbered` is set once group.group is
// read: from then on a problem names the group a person would look for, not the entry's index.
std::optional<std::string> decode_group(const json& entry, int version, OwnedGroup& group,
                                        bool& numbered) {
  if (!entry.is_object()) return "not an object";
  const json* number = member(entry, "group");
  if (!number) return "no group number";
  if (!number->is_number_unsigned() ||
      number->get<std::uint64_t>() > std::numeric_limits<unsigned>::max()) {
    return fmt::format("group number {} is not a whole number from 0 to {}", as_json(*number),
                       std::numeric_limits<unsigned>::max());
  }
  group.group = static_cast<unsigned>(number->get<std::uint64_t>());
  numbered = true;

  const json* how = member(entry, "how");
  if (how && *how == "bound") {
    group.how = OwnedGroup::How::Bound;
  } else if (how && *how == "adopted") {
    group.how = OwnedGroup::How::Adopted;
  } else {
    if (!how) return "no how (\"bound\" or \"adopted\")";
    return fmt::format("how {} is not \"bound\" or \"adopted\"", as_json(*how));
  }

  // Version 1 knew one owner; its groups are the default owner's.
  if (version >= 2) {
    const json* owner = member(entry, "owner");
    if (!owner) return "no owner";
    if (!owner->is_string()) return fmt::format("owner {} is not a string", as_json(*owner));
    group.owner = owner->get<std::string>();
  }

  const json* assignment = member(entry, "assignment");
  if (!assignment) return "no assignment";
  if (!assignment->is_string()) {
    return fmt::format("assignment {} is not a string", as_json(*assignment));
  }
  group.assignment = assignment->get<std::string>();

  // Required, not defaulted: an entry that lost it could be a transaction cut off half-way.
  const json* in_flight = member(entry, "in_flight");
  if (!in_flight) return "no in_flight";
  if (!in_flight->is_boolean()) {
    return fmt::format("in_flight {} is not true or false", as_json(*in_flight));
  }
  group.in_flight = in_flight->get<bool>();

  const json* devices = member(entry, "devices");
  if (!devices || !devices->is_array()) return "no list of devices";
  for (std::size_t i = 0; i < devices->size(); ++i) {
    OwnedDevice device;
    if (auto why = decode_device((*devices)[i], i, device)) return why;
    group.devices.push_back(std::move(device));
  }
  // Version 3 added the PFs whose VF count this tool set; absent before.
  if (version >= 3) {
    const json* vfs = member(entry, "vfs");
    if (!vfs || !vfs->is_array()) return "no list of vfs";
    for (std::size_t i = 0; i < vfs->size(); ++i) {
      OwnedVfs v;
      if (auto why = decode_vfs((*vfs)[i], i, v)) return why;
      group.vfs.push_back(std::move(v));
    }
  }
  return group_problem(group);
}

// A boot id from the file is shown bare when it looks like one, quoted when it does not.
std::string shown_boot_id(const json* value) {
  if (!value) return "none";
  if (value->is_string()) {
    const auto& text = value->get_ref<const std::string&>();
    bool plain = !text.empty();
    for (char c : text) {
      plain = plain && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                        (c >= 'A' && c <= 'Z') || c == '-');
    }
    if (plain) return text;
  }
  return as_json(*value);
}

}  // namespace

std::string encode_ownership(const OwnershipRecord& record, const std::string& boot_id) {
  using ojson = nlohmann::ordered_json;
  if (find_invalid_utf8(boot_id)) throw std::invalid_argument("boot id is not valid UTF-8");
  ojson groups = ojson::array();
  for (const auto& [number, group] : record.groups) {
    if (number != group.group) {
      throw std::invalid_argument(
          fmt::format("ownership record: group {} is filed under {}", group.group, number));
    }
    if (auto why = group_problem(group)) {
      throw std::invalid_argument(fmt::format("refusing to record group {}: {}", number, *why));
    }
    ojson devices = ojson::array();
    for (const auto& device : group.devices) {
      ojson d = ojson::object();
      d["address"] = device.address.str();
      d["original_driver"] = device.original_driver ? ojson(*device.original_driver) : ojson();
      d["original_override"] =
          device.original_override ? ojson(*device.original_override) : ojson();
      if (device.vfio_driver) d["vfio_driver"] = *device.vfio_driver;
      devices.push_back(std::move(d));
    }
    ojson g = ojson::object();
    g["group"] = number;
    g["how"] = group.how == OwnedGroup::How::Bound ? "bound" : "adopted";
    g["owner"] = group.owner;
    g["assignment"] = group.assignment;
    g["in_flight"] = group.in_flight;
    g["devices"] = std::move(devices);
    ojson vfs = ojson::array();
    for (const auto& v : group.vfs) {
      ojson drivers = ojson::array();
      for (const auto& d : v.original_drivers) drivers.push_back(d ? ojson(*d) : ojson());
      ojson entry = ojson::object();
      entry["pf"] = v.pf.str();
      entry["original_count"] = v.original_count;
      entry["original_autoprobe"] = v.original_autoprobe;
      entry["original_drivers"] = std::move(drivers);
      vfs.push_back(std::move(entry));
    }
    g["vfs"] = std::move(vfs);
    groups.push_back(std::move(g));
  }
  ojson doc = ojson::object();
  doc["format_version"] = kOwnershipFormatVersion;
  doc["boot_id"] = boot_id;
  doc["groups"] = std::move(groups);
  return doc.dump(2) + "\n";
}

LoadedRecord decode_ownership(std::string_view bytes, const std::string& file,
                              const std::string& boot_id) {
  LoadedRecord out;
  auto unusable = [&](const std::string& what) {
    out.problems.push_back(fmt::format("{}: {}", file, what));
    out.unusable_file = true;
    return out;
  };
  auto corrupt = [&](const std::string& what) {
    return unusable(fmt::format("corrupt ({}): ignoring it; {}", what, kOwnsNothing));
  };

  // A key given twice: which of two records of a device is the true one cannot be told, so the
  // file is treated as damaged, like any other JSON problem.
  auto parsed = parse_strict_json(bytes);
  if (auto* problem = std::get_if<JsonProblem>(&parsed)) return corrupt(problem->to_string());
  const json doc = std::move(std::get<json>(parsed));
  if (!doc.is_object()) return corrupt("not a JSON object");

  const json* version = member(doc, "format_version");
  if (!version) return corrupt("no format_version");
  if (!version->is_number_integer() || *version < kOldestOwnershipFormatVersion ||
      *version > kOwnershipFormatVersion) {
    return unusable(fmt::format("format version {}, this tool reads {} to {}: ignoring it; {}",
                                as_json(*version), kOldestOwnershipFormatVersion,
                                kOwnershipFormatVersion, kOwnsNothing));
  }
  const int format = version->get<int>();

  const json* recorded_boot = member(doc, "boot_id");
  if (!recorded_boot || *recorded_boot != boot_id) {
    return unusable(fmt::format("written during another boot (boot id {}, now {}): ignoring it",
                                shown_boot_id(recorded_boot), boot_id));
  }

  const json* groups = member(doc, "groups");
  if (!groups || !groups->is_array()) return corrupt("no list of groups");

  // Every entry that names a number counts, a dropped one too: with two claims on one group
  // neither can be trusted.
  std::map<unsigned, int> mentions;
  std::vector<OwnedGroup> decoded;
  for (std::size_t i = 0; i < groups->size(); ++i) {
    OwnedGroup group;
    bool numbered = false;
    auto why = decode_group((*groups)[i], format, group, numbered);
    if (numbered) ++mentions[group.group];
    if (why) {
      const std::string label =
          numbered ? fmt::format("group {}", group.group) : fmt::format("groups[{}]", i);
      out.problems.push_back(fmt::format("{}: {}: {}: ignoring this entry", file, label, *why));
      out.dropped_entries = true;
    } else {
      decoded.push_back(std::move(group));
    }
  }
  for (const auto& [number, count] : mentions) {
    if (count > 1) {
      out.problems.push_back(fmt::format(
          "{}: group {}: listed {} times: ignoring every entry for it", file, number, count));
      out.dropped_entries = true;
    }
  }
  for (auto& group : decoded) {
    if (mentions[group.group] == 1) out.record.groups.emplace(group.group, std::move(group));
  }
  return out;
}

}  // namespace vfio

#include "cli/plan_json.h"

#include <fmt/format.h>

#include "cli/device_text.h"

namespace vfio::cli {
namespace {

using json = nlohmann::ordered_json;

json nullable(const std::optional<std::string>& value) {
  return value ? json(*value) : json(nullptr);
}

json binding_json(const Binding& b) {
  return {{"driver", nullable(b.driver)}, {"override", nullable(b.override)}};
}

json device_json(const PlannedDevice& d, const DeviceNames& names) {
  const PciNames n = names.lookup(d.ids);
  json after = binding_json(d.after);
  if (d.any_host_driver) after["any_host_driver"] = true;
  if (!d.driver_reason.empty()) after["driver_reason"] = d.driver_reason;
  return {
      {"address", d.address.str()},
      {"vendor", fmt::format("{:04x}", d.ids.vendor)},
      {"device", fmt::format("{:04x}", d.ids.device)},
      {"class", fmt::format("0x{:06x}", d.ids.class_code)},
      // As the text names it (lspci's hex stand-in for a half pci.ids knows); null when it
      // knows neither.
      {"name", n.vendor.empty() && n.device.empty() ? json(nullptr) : json(name_text(d.ids, n))},
      {"role", d.role == DeviceRole::Selected ? "selected" : "companion"},
      {"before", binding_json(d.before)},
      {"after", std::move(after)},
  };
}

json change_json(const GroupChange& c, const DeviceNames& names) {
  json devices = json::array();
  for (const auto& d : c.devices) devices.push_back(device_json(d, names));
  json bridges = json::array();
  for (const auto& b : c.bridges) bridges.push_back(b.str());
  json blocks = json::array();
  for (const auto& b : c.blockers) {
    blocks.push_back({{"device", b.device ? json(b.device->str()) : json(nullptr)},
                      {"reason", std::string(to_string(b.reason))},
                      {"message", b.message}});
  }
  json vf_counts = json::array();
  for (const auto& v : c.vf_counts) {
    vf_counts.push_back({{"pf", v.pf.str()},
                         {"from", v.from},
                         {"to", v.to},
                         {"autoprobe_from", v.autoprobe_from},
                         {"autoprobe_to", v.autoprobe_to},
                         {"restore", v.restore}});
  }
  return {
      {"group", c.group ? json(*c.group) : json(nullptr)},
      {"action", std::string(to_string(c.action))},
      {"assignment", c.assignment.empty() ? json(nullptr) : json(c.assignment)},
      {"owner", c.owner.empty() ? json(nullptr) : json(c.owner)},
      {"held_by", c.held_by ? holder_json(*c.held_by) : json(nullptr)},
      {"reason", c.reason},
      {"blocked_by", c.blocked_by ? json(std::string(to_string(*c.blocked_by))) : json(nullptr)},
      {"blocks", std::move(blocks)},
      {"forced", nullable(c.forced)},
      {"pruned", c.pruned},
      {"devices", std::move(devices)},
      {"bridges", std::move(bridges)},
      {"vf_counts", std::move(vf_counts)},
      {"explain", c.explain},
      {"warnings", c.warnings},
  };
}

}  // namespace

json holder_json(const Holder& h) {
  return {{"owner", h.owner},
          {"assignment", h.assignment},
          {"how", h.how == OwnedGroup::How::Bound ? "bound" : "adopted"},
          {"in_flight", h.in_flight}};
}

json plan_json(const Plan& plan, const DeviceNames& names) {
  json changes = json::array();
  for (const auto& c : plan.changes) changes.push_back(change_json(c, names));
  json deferred = json::array();
  for (const auto& d : plan.deferred) {
    json entry = change_json(d.change, names);
    entry["deferred"] = d.why;
    deferred.push_back(std::move(entry));
  }
  PlanSummary s = plan.summary();
  return {
      {"format_version", kPlanFormatVersion},
      {"observed", {{"fingerprint", plan.fingerprint}}},
      {"unusable", nullable(plan.unusable)},
      {"changes", std::move(changes)},
      {"deferred", std::move(deferred)},
      {"summary",
       {{"claim", s.claim},
        {"release", s.release},
        {"adopt", s.adopt},
        {"noop", s.noop},
        {"blocked", s.blocked},
        {"forget", s.forget},
        {"set_vfs", s.set_vfs},
        {"changes_pending", plan.has_changes()}}},
  };
}

}  // namespace vfio::cli

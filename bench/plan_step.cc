#include "plan_step.h"

#include "plan/plan.h"

namespace vfio::bench {
namespace {

Assignment assignment(std::string name, WantedState state, DeviceMatch match) {
  Assignment a;
  a.name = std::move(name);
  a.state = state;
  a.match = std::move(match);
  a.location = {"bench.yaml", 1, 1};
  return a;
}

DeviceMatch nvidia_gpus() {
  DeviceMatch gpus;
  gpus.vendor = 0x10de;
  gpus.class_prefix = ClassPrefix{0x0300, 4};
  return gpus;
}

DesiredState make_gpu_manifest() {
  DesiredState d;
  d.files = {"bench-gpus.yaml"};
  d.assignments.push_back(assignment("gpus", WantedState::Vfio, nvidia_gpus()));
  return d;
}

DesiredState make_fleet_manifest() {
  DesiredState d;
  d.files = {"bench.yaml"};
  d.assignments.push_back(assignment("gpus", WantedState::Vfio, nvidia_gpus()));
  DeviceMatch e810_vfs;
  e810_vfs.vendor = 0x8086;
  e810_vfs.device = 0x1889;
  d.assignments.push_back(assignment("e810-vfs", WantedState::Vfio, e810_vfs));
  DeviceMatch cx6_vfs;
  cx6_vfs.vendor = 0x15b3;
  cx6_vfs.device = 0x101e;
  d.assignments.push_back(assignment("cx6-vfs", WantedState::Vfio, cx6_vfs));
  DeviceMatch nvme;
  nvme.class_prefix = ClassPrefix{0x0108, 4};
  d.assignments.push_back(assignment("nvme", WantedState::Host, nvme));
  return d;
}

}  // namespace

const DesiredState& gpu_manifest() {
  static const DesiredState desired = make_gpu_manifest();
  return desired;
}

const DesiredState& fleet_manifest() {
  static const DesiredState desired = make_fleet_manifest();
  return desired;
}

std::size_t plan_step(const DesiredState& desired, const HostSnapshot& snapshot) {
  return make_plan(desired, snapshot, OwnershipRecord{}).changes.size();
}

}  // namespace vfio::bench

// The planner's suites' helpers: assignments as the decoder would make them, desired states as
// a manifest set of one file per owner would be, and a simulated host that proves planning
// writes nothing.
#pragma once

#include <boost/test/unit_test.hpp>

#include <initializer_list>
#include <stdexcept>
#include <string>

#include "manifest/desired_state.h"
#include "observe/observe.h"
#include "plan/plan.h"
#include "sim/kernel_simulator.h"
#include "test_support.h"

namespace vfio::test {

using sim::KernelSimulator;

// An assignment as the decoder would produce it.
struct A {
  Assignment a;
  explicit A(std::string name, WantedState state = WantedState::Vfio) {
    a.name = std::move(name);
    a.state = state;
    a.location = {"test.yaml", 3, 5};
  }
  A& address(const char* text) {
    a.match.address = addr(text);
    return *this;
  }
  A& ids(uint16_t vendor, uint16_t device) {
    a.match.vendor = vendor;
    a.match.device = device;
    return *this;
  }
  A& cls(uint32_t value, int digits) {
    a.match.class_prefix = ClassPrefix{value, digits};
    return *this;
  }
  A& count(unsigned n) {
    a.count = n;
    return *this;
  }
  A& vfs(unsigned n) {
    a.vfs = n;
    a.vfs_location = {a.location.file, a.location.line + 3, 10};
    return *this;
  }
  A& listed() {
    a.companions = Companions::Listed;
    return *this;
  }
  A& force(std::string reason) {
    a.force = std::move(reason);
    return *this;
  }
  A& owner(std::string name) {
    a.owner = std::move(name);
    a.location.file = a.owner + ".yaml";
    return *this;
  }
};

// As decoded from one file per owner (test.yaml for the default owner): the set speaks for the
// owners of its assignments, and with none for the default owner (`assignments: []`), unless
// `speaking_for` names the owners.
inline DesiredState desired(std::initializer_list<A> assignments,
                            std::initializer_list<const char*> speaking_for = {}) {
  DesiredState d;
  d.files = {"test.yaml"};
  for (const auto& a : assignments) {
    d.assignments.push_back(a.a);
    d.owners.emplace(a.a.owner, vfio::SourceLocation{a.a.location.file, 0, 0});
  }
  if (assignments.size() == 0 && speaking_for.size() == 0) {
    d.owners.emplace(vfio::kDefaultOwner, vfio::SourceLocation{"test.yaml", 0, 0});
  }
  for (const char* owner : speaking_for) {
    d.owners.emplace(owner, vfio::SourceLocation{std::string(owner) + ".yaml", 0, 0});
  }
  return d;
}

// Observes the simulated host, plans, and proves the planning wrote nothing.
struct PlanHost {
  explicit PlanHost(const std::string& name) : kernel(test::example_host(name)) {}
  explicit PlanHost(sim::Topology t) : kernel(std::move(t)) {}
  Plan plan(const DesiredState& d, const OwnershipRecord& owned = {}, PlanOptions options = {}) {
    const std::size_t before = kernel.writes().size();
    snapshot = observe(kernel);
    Plan p = make_plan(d, snapshot, owned, options);
    BOOST_TEST(kernel.writes().size() == before);
    return p;
  }
  KernelSimulator kernel;
  HostSnapshot snapshot;
};

inline const GroupChange& change_for(const Plan& p, unsigned group) {
  for (const auto& c : p.changes) {
    if (c.group == group) return c;
  }
  BOOST_FAIL("no change for group " << group);
  throw std::logic_error("unreachable");
}

inline const PlannedDevice& device_in(const GroupChange& c, const char* address) {
  for (const auto& d : c.devices) {
    if (d.address == addr(address)) return d;
  }
  BOOST_FAIL("no device " << address);
  throw std::logic_error("unreachable");
}

}  // namespace vfio::test

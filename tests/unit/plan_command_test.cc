#define BOOST_TEST_MODULE plan_command
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstdlib>
#include <sstream>

#include <nlohmann/json.hpp>

#include "apply/kernel_modules.h"
#include "cli/exit_codes.h"
#include "cli/run.h"
#include "cli_support.h"
#include "observe/pci_id_database.h"
#include "sim/kernel_simulator.h"
#include "test_support.h"

using namespace vfio;
using test::contains;
using test::Ran;
using test::ScratchFile;

namespace {

const std::string kSource = VFIO_SOURCE_DIR;

// Counts every gateway call, to prove a command never touched sysfs.
class CountingSysfs final : public Sysfs {
 public:
  explicit CountingSysfs(Sysfs& inner) : inner_(inner) {}
  Result<std::string> read(const SysPath& p, std::size_t max) override {
    ++calls;
    return inner_.read(p, max);
  }
  Result<std::string> read_link(const SysPath& p) override {
    ++calls;
    return inner_.read_link(p);
  }
  Result<std::vector<std::string>> list(const SysPath& p) override {
    ++calls;
    return inner_.list(p);
  }
  Result<void> write(const SysPath& p, std::string_view v) override {
    ++calls;
    return inner_.write(p, v);
  }
  std::string display(const SysPath& p) const override { return inner_.display(p); }
  int calls = 0;

 private:
  Sysfs& inner_;
};

class FakeModules final : public KernelModules {
 public:
  explicit FakeModules(bool has_vfio) : has_vfio_(has_vfio) {}
  bool available(std::string_view module) override { return has_vfio_ && module == "vfio-pci"; }
  std::optional<std::string> load(std::string_view) override { return "not in this test"; }
  Result<ModulesAlias> modules_alias() override {
    return IoError{IoError::Op::Open, "/lib/modules/none/modules.alias", ENOENT, {}};
  }

 private:
  bool has_vfio_;
};

Ran plan(Sysfs& sysfs, std::vector<std::string> args, bool vfio_loadable = true) {
  args.insert(args.begin(), "plan");
  FakeModules modules(vfio_loadable);
  cli::Context context;
  context.sysfs = &sysfs;
  context.modules = &modules;
  return test::run_cli(args, context);
}

}  // namespace

BOOST_AUTO_TEST_CASE(planning_every_example_writes_nothing) {
  const std::pair<const char*, const char*> examples[] = {
      {"workstation-gpu", "workstation"},
      {"gpu-server-gpus", "gpu-server"},
      {"gpu-server-vfs", "gpu-server"},
      {"gpu-server-release", "gpu-server"},
      {"acs-less-bridge-nics", "acs-less-bridge"}};
  for (const auto& [manifest, host_name] : examples) {
    BOOST_TEST_CONTEXT(manifest) {
      sim::KernelSimulator kernel(test::example_host(host_name));
      for (const char* format : {"", "--json", "--explain"}) {
        std::vector<std::string> args{kSource + "/examples/" + manifest + ".yaml"};
        if (*format) args.push_back(format);
        Ran ran = plan(kernel, args);
        BOOST_TEST(ran.code == 0, ran.err);
      }
      BOOST_TEST(kernel.writes().empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_bad_manifest_never_reaches_sysfs) {
  sim::KernelSimulator kernel(test::example_host("workstation"));
  CountingSysfs counting(kernel);
  ScratchFile bad("version: 1\nassignments:\n  - name: gpu0\n    state: vfoi\n", "manifest.yaml");
  Ran invalid = plan(counting, {bad.path()});
  BOOST_TEST(invalid.code == cli::kExitManifestInvalid);
  BOOST_TEST(contains(invalid.err, bad.path() + ":4:12:"), invalid.err);
  Ran missing = plan(counting, {"/nonexistent/manifest.yaml"});
  BOOST_TEST(missing.code == cli::kExitManifestMissing);
  BOOST_TEST(counting.calls == 0);
}

BOOST_AUTO_TEST_CASE(exit_codes_follow_the_contract) {
  sim::KernelSimulator workstation(test::example_host("workstation"));
  const std::string gpu = kSource + "/examples/workstation-gpu.yaml";
  BOOST_TEST(plan(workstation, {gpu}).code == cli::kExitOk);
  BOOST_TEST(plan(workstation, {gpu, "--detailed-exitcode"}).code == cli::kExitChangesPending);

  ScratchFile igpu(
      "version: 1\nassignments:\n"
      "  - { name: igpu, state: vfio, match: { address: \"0000:00:02.0\" } }\n"
      "  - { name: gpu0, state: vfio, match: { address: \"0000:01:00.0\" } }\n",
      "manifest.yaml");
  Ran blocked = plan(workstation, {igpu.path(), "--detailed-exitcode"});
  BOOST_TEST(blocked.code == cli::kExitBlocked);  // 78 wins over 2
  BOOST_TEST(contains(blocked.out, "! IOMMU group 2: blocked (boot-display) for igpu"),
             blocked.out);
  BOOST_TEST(contains(blocked.out, "Plan: 1 to claim, 0 to release, 0 adopted, 1 blocked."),
             blocked.out);

  sim::KernelSimulator server(test::example_host("gpu-server"));
  ScratchFile adopt_only(
      "version: 1\nassignments:\n"
      "  - { name: gpu4, state: vfio, match: { address: \"0000:86:00.0\" } }\n",
      "manifest.yaml");
  Ran adopted = plan(server, {adopt_only.path(), "--detailed-exitcode"});
  // Adopting writes nothing to sysfs (exit 0 with --detailed-exitcode), but it is said, as apply
  // says it, not hidden under "No changes.".
  BOOST_TEST(adopted.code == cli::kExitOk);
  BOOST_TEST(contains(adopted.out, "Plan: 0 to claim, 0 to release, 1 adopted, 0 blocked."),
             adopted.out);

  sim::KernelSimulator no_iommu(test::example_host("no-iommu"));
  ScratchFile any("version: 1\nassignments: []\n", "manifest.yaml");
  Ran unusable = plan(no_iommu, {any.path()});
  BOOST_TEST(unusable.code == cli::kExitUnavailable);
  // Said once, as the error it is.
  BOOST_TEST(contains(unusable.err, "error: nothing can be planned: no IOMMU is active"),
             unusable.err);
  BOOST_TEST(!contains(unusable.out, "IOMMU"), unusable.out);
}

BOOST_AUTO_TEST_CASE(vfio_pci_must_be_loaded_or_loadable) {
  sim::Topology t = test::example_host("workstation");
  t.vfio_pci = sim::Topology::VfioPci::Loadable;
  sim::KernelSimulator kernel(t);
  const std::string gpu = kSource + "/examples/workstation-gpu.yaml";
  BOOST_TEST(plan(kernel, {gpu}, /*vfio_loadable=*/true).code == cli::kExitOk);
  Ran missing = plan(kernel, {gpu}, /*vfio_loadable=*/false);
  BOOST_TEST(missing.code == cli::kExitUnavailable);
  BOOST_TEST(contains(missing.err, "vfio-pci is not loaded"), missing.err);
}

BOOST_AUTO_TEST_CASE(json_follows_the_contract) {
  sim::KernelSimulator kernel(test::example_host("workstation"));
  Ran ran = plan(kernel, {kSource + "/examples/workstation-gpu.yaml", "--json"});
  auto j = nlohmann::json::parse(ran.out);
  BOOST_TEST(j["format_version"] == "2.1");
  BOOST_TEST(j["deferred"].empty());  // a full run leaves nothing for later
  BOOST_TEST(j["observed"]["fingerprint"].get<std::string>().rfind("fnv1a64:", 0) == 0u);
  const auto& change = j["changes"][0];
  BOOST_TEST(change["group"] == 1);
  BOOST_TEST(change["action"] == "claim");
  BOOST_TEST(change["assignment"] == "gpu0");
  BOOST_TEST(change["owner"] == "default");
  BOOST_TEST(change["held_by"].is_null());
  const auto& audio = change["devices"][1];
  for (const char* key : {"address", "vendor", "device", "class", "role", "before", "after"}) {
    BOOST_TEST(audio.contains(key), key);
  }
  BOOST_TEST(audio["role"] == "companion");
  BOOST_TEST(audio["before"]["driver"] == "snd_hda_intel");
  BOOST_TEST(audio["before"]["override"].is_null());
  BOOST_TEST(audio["after"]["driver"] == "vfio-pci");
  BOOST_TEST(j["summary"]["claim"] == 1);
  BOOST_TEST(j["summary"]["forget"] == 0);
}

BOOST_AUTO_TEST_CASE(an_assignment_that_selects_nothing_is_named_in_its_heading) {
  sim::KernelSimulator kernel(test::example_host("workstation"));
  ScratchFile phantom(
      "version: 1\nassignments:\n"
      "  - { name: phantom, state: vfio, match: { vendor: \"1234\", device: \"5678\" }, count: 2 "
      "}\n",
      "manifest.yaml");
  Ran ran = plan(kernel, {phantom.path()});
  BOOST_TEST(ran.code == cli::kExitBlocked);
  BOOST_TEST(contains(ran.out,
                      "! assignment phantom: blocked (count-mismatch)\n    phantom: "
                      "vendor 1234, device 5678 selects no device, but count is 2\n"),
             ran.out);
}

// Names are looked up only for the devices a run prints (issue 18: libpci parsing pci.ids was
// most of a small plan's time). A pci.ids libpci cannot parse tells when it was read: its warning.
BOOST_AUTO_TEST_CASE(pci_ids_is_read_only_when_a_name_is_printed) {
  ScratchFile ids("10de  NVIDIA Corporation\n\t\t\t\tnonsense here\nzz\n", "pci.ids");
  const char* const was = std::getenv(PciIdDatabase::kPathVariable);
  const std::string before = was ? was : "";
  setenv(PciIdDatabase::kPathVariable, ids.path().c_str(), 1);
  sim::KernelSimulator workstation(test::example_host("workstation"));
  ScratchFile unchanged(
      "version: 1\nassignments:\n"
      "  - { name: gpu0, state: host, match: { address: \"0000:01:00.0\" } }\n",
      "manifest.yaml");
  const Ran quiet = plan(workstation, {unchanged.path()});
  const Ran claim = plan(workstation, {kSource + "/examples/workstation-gpu.yaml"});
  if (was) {
    setenv(PciIdDatabase::kPathVariable, before.c_str(), 1);
  } else {
    unsetenv(PciIdDatabase::kPathVariable);
  }
  BOOST_TEST(contains(quiet.out, "No changes."), quiet.out);
  BOOST_TEST(!contains(quiet.err, "pci.ids"), quiet.err);
  // The claim lists its group's devices by name: pci.ids is read then, and found malformed.
  BOOST_TEST(contains(claim.out, "+ IOMMU group 1"), claim.out);
  BOOST_TEST(contains(claim.err, "pci.ids: "), claim.err);
  BOOST_TEST(contains(claim.out, "Vendor 10de Device 2684"), claim.out);
}

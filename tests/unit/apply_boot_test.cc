#define BOOST_TEST_MODULE apply_boot
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>

#include <chrono>
#include <future>
#include <thread>

#include "apply/run_lock.h"
#include "cli/exit_codes.h"
#include "cli/logging.h"
#include "cli_support.h"
#include "sim/kernel_simulator.h"
#include "sim/simulated_modules.h"
#include "test_support.h"

// `vfio-reconcile apply --boot`, the boot unit's run, through the real entry point on the kernel
// simulator: the manifests of the configuration directory, its exit codes, and its log lines as
// the journal receives them.

using namespace vfio;
using test::contains;
using test::Ran;
using test::ScratchDir;
namespace fs = test::fs;

namespace {

const PciAddress kGpu{0, 1, 0, 0};
const PciAddress kIgpu{0, 0, 2, 0};

std::string assignment(const std::string& name, const std::string& address) {
  return "version: 1\nassignments:\n  - { name: " + name + ", state: vfio, match: { address: \"" +
         address + "\" } }\n";
}

// A configuration directory like /etc/vfio-reconcile, with a state directory beside it.
struct Host {
  sim::KernelSimulator kernel{test::example_host("workstation")};
  ScratchDir scratch{"vfio-boot"};
  fs::path config = scratch.path() / "etc";
  fs::path state = scratch.path() / "run";

  Host() { fs::create_directories(config / "manifest.d"); }

  void write(const std::string& name, const std::string& text) const {
    std::ofstream((config / name).string(), std::ios::binary) << text;
  }

  // `vfio-reconcile --state-dir STATE apply --boot --config-dir CONFIG ARGS...`
  Ran boot(std::vector<std::string> args = {}, std::optional<cli::LogStyle> style = std::nullopt) {
    sim::SimulatedModules modules(kernel, true);
    std::vector<std::string> all{"--state-dir", state.string(), "apply",
                                 "--boot",      "--config-dir", config.string()};
    all.insert(all.end(), args.begin(), args.end());
    cli::Context context;
    context.sysfs = &kernel;
    context.modules = &modules;
    context.boot_id = "apply-boot-test";
    context.log_style = style;  // as under systemd: stdout and stderr are the one journal stream
    context.out_style = style;
    return test::run_cli(all, context);
  }

  std::string driver(const PciAddress& address) const {
    return kernel.driver_of(address).value_or("-");
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(boot_reads_the_config_dirs_manifest_yaml) {
  Host host;
  host.write("manifest.yaml", assignment("gpu0", "0000:01:00.0"));
  Ran ran = host.boot();
  BOOST_TEST(ran.code == cli::kExitOk, ran.out + ran.err);
  BOOST_TEST(host.driver(kGpu) == "vfio-pci");
  BOOST_TEST(contains(ran.out, "claim for gpu0"), ran.out);
}

BOOST_AUTO_TEST_CASE(boot_reads_manifest_d_alone_when_there_is_no_manifest_yaml) {
  Host host;
  host.write("manifest.d/gpu.yaml", assignment("gpu0", "0000:01:00.0"));
  Ran ran = host.boot();
  BOOST_TEST(ran.code == cli::kExitOk, ran.out + ran.err);
  BOOST_TEST(host.driver(kGpu) == "vfio-pci");
}

// The group is claimed for the first assignment, in reading order, that touches it: that shows
// the order. manifest.yaml comes first, then manifest.d/*.yaml by name (not creation order);
// other files, and hidden ones, are not manifests.
BOOST_AUTO_TEST_CASE(manifest_yaml_then_manifest_d_in_name_order) {
  {
    Host host;
    host.write("manifest.d/20-gpu.yaml", assignment("gpu", "0000:01:00.0"));
    host.write("manifest.d/10-audio.yaml", assignment("audio", "0000:01:00.1"));
    host.write("manifest.d/README", "not yaml: {{{");
    host.write("manifest.d/.hidden.yaml", "not yaml: {{{");
    host.write("manifest.d/.hidden.yml", "not yaml: {{{");
    Ran ran = host.boot({"--dry-run"});
    BOOST_TEST(ran.code == cli::kExitOk, ran.out + ran.err);
    BOOST_TEST(contains(ran.out, "claim for audio"), ran.out);
  }
  {
    Host host;
    host.write("manifest.d/10-audio.yaml", assignment("audio", "0000:01:00.1"));
    host.write("manifest.yaml", assignment("gpu", "0000:01:00.0"));
    Ran ran = host.boot({"--dry-run"});
    BOOST_TEST(ran.code == cli::kExitOk, ran.out + ran.err);
    BOOST_TEST(contains(ran.out, "claim for gpu"), ran.out);
  }
}

// Issue 17: *.yml is a manifest as *.yaml is (editors and kubectl write both), read in one name
// order with them, never passed over in silence; so is manifest.yml.
BOOST_AUTO_TEST_CASE(yml_files_are_manifests_too) {
  {
    Host host;
    host.write("manifest.d/20-gpu.yaml", assignment("gpu", "0000:01:00.0"));
    host.write("manifest.d/10-audio.yml", assignment("audio", "0000:01:00.1"));
    Ran ran = host.boot({"--dry-run"});
    BOOST_TEST(ran.code == cli::kExitOk, ran.out + ran.err);
    BOOST_TEST(contains(ran.out, "claim for audio"), ran.out);
  }
  {
    Host host;
    host.write("manifest.yml", assignment("gpu0", "0000:01:00.0"));
    Ran ran = host.boot();
    BOOST_TEST(ran.code == cli::kExitOk, ran.out + ran.err);
    BOOST_TEST(host.driver(kGpu) == "vfio-pci");
  }
  {
    Host host;
    host.write("manifest.yaml", assignment("gpu0", "0000:01:00.0"));
    host.write("manifest.d/gpu.yml", "version: 1\nassignments:\n  - name: x\n    stat: vfio\n");
    Ran ran = host.boot();
    BOOST_TEST(ran.code == cli::kExitManifestInvalid, ran.out + ran.err);
    BOOST_TEST(contains(ran.err, (host.config / "manifest.d/gpu.yml").string() + ":4:5: "),
               ran.err);
    BOOST_TEST(host.kernel.writes().empty());
  }
}

BOOST_AUTO_TEST_CASE(a_yaml_error_in_any_file_exits_65_before_any_write) {
  Host host;
  host.write("manifest.yaml", assignment("gpu0", "0000:01:00.0"));
  host.write("manifest.d/50-bad.yaml", "version: 1\nassignments:\n  - name: x\n    stat: vfio\n");
  Ran ran = host.boot();
  BOOST_TEST(ran.code == cli::kExitManifestInvalid, ran.out + ran.err);
  BOOST_TEST(contains(ran.err, (host.config / "manifest.d/50-bad.yaml").string() + ":4:5: "),
             ran.err);
  BOOST_TEST(host.kernel.writes().empty());
  BOOST_TEST(!fs::exists(host.state));  // not even the state directory or its lock
  BOOST_TEST(host.driver(kGpu) == "nvidia");
}

BOOST_AUTO_TEST_CASE(no_manifest_at_all_is_nothing_to_do_and_exits_0) {
  Host host;
  host.write("manifest.d/README", "manifests go here");
  Ran ran = host.boot();
  BOOST_TEST(ran.code == cli::kExitOk, ran.out + ran.err);
  BOOST_TEST(contains(ran.err, "no manifest in " + host.config.string()), ran.err);
  BOOST_TEST(host.kernel.writes().empty());
  BOOST_TEST(!fs::exists(host.state));

  fs::remove_all(host.config);  // no configuration directory at all: the same
  BOOST_TEST(host.boot().code == cli::kExitOk);
}

BOOST_AUTO_TEST_CASE(an_unreadable_manifest_exits_66) {
  Host host;
  fs::create_symlink(host.config / "gone.yaml", host.config / "manifest.yaml");
  Ran ran = host.boot();
  BOOST_TEST(ran.code == cli::kExitManifestMissing, ran.out + ran.err);
  BOOST_TEST(contains(ran.err, (host.config / "manifest.yaml").string()), ran.err);
  BOOST_TEST(host.kernel.writes().empty());
}

// Each message once: the report on stdout says the refusal; stderr does not repeat it.
BOOST_AUTO_TEST_CASE(a_blocked_group_is_reported_once_the_rest_applied_and_the_run_exits_78) {
  Host host;
  host.write("manifest.d/10-igpu.yaml", assignment("igpu", "0000:00:02.0"));
  host.write("manifest.d/20-gpu.yaml", assignment("gpu0", "0000:01:00.0"));
  Ran ran = host.boot();
  BOOST_TEST(ran.code == cli::kExitBlocked, ran.out + ran.err);
  BOOST_TEST(host.driver(kGpu) == "vfio-pci");
  BOOST_TEST(host.driver(kIgpu) == "i915");
  BOOST_TEST(contains(ran.out, "! IOMMU group 2: blocked (boot-display) for igpu"), ran.out);
  BOOST_TEST(contains(ran.out, "boot-display"), ran.out);
  BOOST_TEST(!contains(ran.err, "boot-display"), ran.err);
}

BOOST_AUTO_TEST_CASE(a_failed_group_is_reported_once_rolled_back_and_the_run_exits_1) {
  Host host;
  host.write("manifest.yaml", assignment("gpu0", "0000:01:00.0"));
  host.kernel.fail_write(paths::pci_driver_file("nvidia", "unbind"), 1, EBUSY);
  Ran ran = host.boot();
  BOOST_TEST(ran.code == cli::kExitApplyFailed, ran.out + ran.err);
  BOOST_TEST(contains(ran.out, "EBUSY"), ran.out);
  BOOST_TEST(!contains(ran.err, "EBUSY"), ran.err);
  BOOST_TEST(host.driver(kGpu) == "nvidia");

  // In the journal the failed group's block is an error (`journalctl -p err` finds it).
  Host journal;
  journal.write("manifest.yaml", assignment("gpu0", "0000:01:00.0"));
  journal.kernel.fail_write(paths::pci_driver_file("nvidia", "unbind"), 1, EBUSY);
  Ran logged = journal.boot({}, cli::LogStyle::Journal);
  BOOST_TEST(logged.code == cli::kExitApplyFailed);
  BOOST_TEST(logged.out.starts_with("<3>+ IOMMU group 1: claim for gpu0"), logged.out);
  BOOST_TEST(contains(logged.out, "EBUSY"), logged.out);
  BOOST_TEST(contains(logged.out, "\n<6>Applied: "), logged.out);
}

BOOST_AUTO_TEST_CASE(named_manifests_replace_the_config_dir) {
  Host host;
  host.write("manifest.yaml", assignment("igpu", "0000:00:02.0"));  // would be blocked
  sim::SimulatedModules modules(host.kernel, true);
  cli::Context context;
  context.sysfs = &host.kernel;
  context.modules = &modules;
  context.boot_id = "apply-boot-test";
  const fs::path named = host.scratch.path() / "gpu.yaml";
  std::ofstream(named.string()) << assignment("gpu0", "0000:01:00.0");
  Ran ran = test::run_cli({"--state-dir", host.state.string(), "apply", "--boot", named.string()},
                          context);
  BOOST_TEST(ran.code == cli::kExitOk, ran.out + ran.err);
  BOOST_TEST(host.driver(kGpu) == "vfio-pci");
}

BOOST_AUTO_TEST_CASE(usage_apply_needs_a_manifest_or_boot_and_config_dir_needs_boot) {
  Ran bare = test::run_cli({"apply"});
  BOOST_TEST(bare.code == cli::kExitUsage);
  BOOST_TEST(contains(bare.err, "MANIFEST is required, or --plan FILE, or --boot"), bare.err);
  Ran config_only = test::run_cli({"apply", "--config-dir", "/tmp"});
  BOOST_TEST(config_only.code == cli::kExitUsage);
  BOOST_TEST(contains(config_only.err, "--config-dir requires --boot"), config_only.err);
  Ran both = test::run_cli({"apply", "--boot", "--config-dir", "/tmp", "m.yaml"});
  BOOST_TEST(both.code == cli::kExitUsage);
  BOOST_TEST(contains(both.err, "excludes --config-dir"), both.err);
}

// At boot there is nobody to run it again: a run holding the lock is waited for, not a reason
// to give up (75).
BOOST_AUTO_TEST_CASE(boot_waits_for_another_runs_lock) {
  Host host;
  host.write("manifest.yaml", assignment("gpu0", "0000:01:00.0"));
  fs::create_directories(host.state);
  ::chmod(host.state.c_str(), 0700);  // private, as the unit makes it
  auto held = RunLock::acquire(test::disk(), host.state, false);
  BOOST_REQUIRE(held);
  auto run = std::async(std::launch::async, [&] { return host.boot(); });
  BOOST_TEST((run.wait_for(std::chrono::milliseconds(300)) == std::future_status::timeout));
  BOOST_TEST(host.kernel.writes().empty());
  held.reset();
  Ran ran = run.get();
  BOOST_TEST(ran.code == cli::kExitOk, ran.out + ran.err);
  BOOST_TEST(host.driver(kGpu) == "vfio-pci");
}

// Under systemd stdout and stderr are the journal, and every line carries its sd-daemon(3)
// priority: the report's blocks as their groups fared (a refusal a warning), the rest info, and
// manifest diagnostics on stderr errors. The refusal is said once, in the report.
BOOST_AUTO_TEST_CASE(journal_style_gives_each_line_its_priority_and_says_each_message_once) {
  Host host;
  host.write("manifest.d/10-igpu.yaml", assignment("igpu", "0000:00:02.0"));
  host.write("manifest.d/20-gpu.yaml", assignment("gpu0", "0000:01:00.0"));
  Ran blocked = host.boot({}, cli::LogStyle::Journal);
  BOOST_TEST(blocked.code == cli::kExitBlocked);
  BOOST_TEST(!contains(blocked.err, "boot-display"), blocked.err);
  BOOST_TEST(!contains(blocked.out, "warning:"), blocked.out);
  BOOST_TEST(contains(blocked.out, "<4>! IOMMU group 2: blocked (boot-display) for igpu"),
             blocked.out);
  BOOST_TEST(contains(blocked.out, "<6>+ IOMMU group 1: claim for gpu0"), blocked.out);
  BOOST_TEST(contains(blocked.out, "\n<6>Applied: 1 claimed"), blocked.out);
  int warnings = 0;
  for (std::size_t at = 0; at < blocked.out.size(); at = blocked.out.find('\n', at) + 1) {
    const std::string prefix = blocked.out.substr(at, 3);
    BOOST_TEST((prefix == "<4>" || prefix == "<6>"), blocked.out.substr(at, 60));
    if (prefix == "<4>") ++warnings;
    if (blocked.out.find('\n', at) == std::string::npos) break;
  }
  BOOST_TEST(warnings >= 2, blocked.out);  // the heading and the reason under it

  Host bad;
  bad.write("manifest.yaml", "version: 1\nassignments:\n  - name: x\n    stat: vfio\n");
  Ran invalid = bad.boot({}, cli::LogStyle::Journal);
  BOOST_TEST(invalid.code == cli::kExitManifestInvalid);
  const std::string file = (bad.config / "manifest.yaml").string();
  BOOST_TEST(invalid.err.starts_with("<3>" + file + ":"), invalid.err);
  BOOST_TEST(contains(invalid.err, "\n<3>" + file + ":4:5: unknown key 'stat'"), invalid.err);
  for (std::size_t at = 0; (at = invalid.err.find('\n', at)) != std::string::npos; ++at) {
    if (at + 1 < invalid.err.size()) BOOST_TEST(invalid.err.substr(at + 1, 3) == "<3>");
  }
}

BOOST_AUTO_TEST_CASE(journal_priorities_and_lines) {
  BOOST_TEST(cli::journal_priority(spdlog::level::debug) == 7);
  BOOST_TEST(cli::journal_priority(spdlog::level::info) == 6);
  BOOST_TEST(cli::journal_priority(spdlog::level::warn) == 4);
  BOOST_TEST(cli::journal_priority(spdlog::level::err) == 3);
  BOOST_TEST(cli::journal_priority(spdlog::level::critical) == 2);
  BOOST_TEST(cli::journal_lines(3, "one") == "<3>one\n");
  BOOST_TEST(cli::journal_lines(4, "one\ntwo\n") == "<4>one\n<4>two\n");
  BOOST_TEST(cli::journal_lines(6, "a\n\nb") == "<6>a\n<6>\n<6>b\n");
}

// systemd.exec(5): JOURNAL_STREAM is "DEVICE:INODE" of the stream it connected; only a match
// with stderr's own fstat means stderr is the journal (a child whose stderr was redirected
// inherits the variable, and must not write prefixes into a file).
BOOST_AUTO_TEST_CASE(journal_stream_must_name_stderrs_device_and_inode) {
  BOOST_TEST(cli::journal_stream_matches("2049:123456", 2049, 123456));
  BOOST_TEST(!cli::journal_stream_matches("2049:123457", 2049, 123456));
  BOOST_TEST(!cli::journal_stream_matches("2048:123456", 2049, 123456));
  BOOST_TEST(!cli::journal_stream_matches(nullptr, 2049, 123456));
  BOOST_TEST(!cli::journal_stream_matches("", 0, 0));
  BOOST_TEST(!cli::journal_stream_matches("2049", 2049, 0));
  BOOST_TEST(!cli::journal_stream_matches("2049:123456x", 2049, 123456));
  BOOST_TEST(!cli::journal_stream_matches(":123456", 0, 123456));
  BOOST_TEST(!cli::journal_stream_matches("-1:5", static_cast<dev_t>(-1), 5));
}

// The initramfs hooks keep a copy of the manifests they put in a kernel's initramfs; while it is
// not the configuration directory's, the next boot's early claim follows the old manifests, and
// apply says so (and still applies).
BOOST_AUTO_TEST_CASE(apply_warns_while_the_initramfs_holds_other_manifests) {
  Host host;
  host.write("manifest.yaml", assignment("gpu0", "0000:01:00.0"));
  const fs::path copies = host.scratch.path() / "initramfs";
  const fs::path copy = copies / "6.1.0-test-amd64";
  auto boot = [&] {
    sim::SimulatedModules modules(host.kernel, true);
    cli::Context context;
    context.sysfs = &host.kernel;
    context.modules = &modules;
    context.boot_id = "apply-boot-test";
    context.initramfs_copies = copies.string();
    context.kernel_release = "6.1.0-test-amd64";
    return test::run_cli({"--state-dir", host.state.string(), "apply", "--boot", "--dry-run",
                          "--config-dir", host.config.string()},
                         context);
  };
  // No initramfs made with a manifest: nothing to say.
  Ran none = boot();
  BOOST_TEST(none.code == cli::kExitOk, none.out + none.err);
  BOOST_TEST(!contains(none.err, "initramfs"), none.err);

  fs::create_directories(copy / "manifest.d");
  fs::copy_file(host.config / "manifest.yaml", copy / "manifest.yaml");
  Ran same = boot();
  BOOST_TEST(!contains(same.err, "initramfs"), same.err);

  host.write("manifest.yaml", assignment("gpu1", "0000:01:00.0"));
  host.write("manifest.d/10-usb.yaml", assignment("usb", "0000:00:14.0"));
  std::ofstream((copy / "manifest.d/05-old.yaml").string()) << assignment("old", "0000:00:17.0");
  Ran stale = boot();
  BOOST_TEST(stale.code == cli::kExitOk, stale.out + stale.err);
  BOOST_TEST(contains(stale.err,
                      "warning: the initramfs of kernel 6.1.0-test-amd64 holds other "
                      "manifests than " +
                          host.config.string() +
                          " (manifest.d/10-usb.yaml is not in it, manifest.yaml "
                          "differs, manifest.d/05-old.yaml is only in it; its copy: " +
                          copy.string() +
                          "): the early claim at the next boot follows the old ones; "
                          "run update-initramfs -u (or dracut --force)"),
             stale.err);

  // Every manifest removed, the initramfs still claiming by its copy: said too.
  fs::remove_all(host.config);
  Ran removed = boot();
  BOOST_TEST(removed.code == cli::kExitOk, removed.out + removed.err);
  BOOST_TEST(contains(removed.err,
                      "(manifest.d/05-old.yaml is only in it, manifest.yaml is only "
                      "in it; its copy: "),
             removed.err);
}

#define BOOST_TEST_MODULE status_selection
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "cli/exit_codes.h"
#include "cli/status_selection.h"
#include "cli_support.h"
#include "sim/kernel_simulator.h"
#include "sim/simulated_modules.h"
#include "test_support.h"

// `status ADDRESS|GROUP...` (issue 17, part 5): only the groups asked about, in text and JSON;
// column headings; bridge-only groups folded on a big host.

using namespace vfio;
using test::contains;
using test::Ran;
using test::ScratchDir;

namespace {

// `columns`: the terminal's width `status` sees (none: not a terminal, as a handed-in stream).
Ran status_of(const std::string& host, const std::vector<std::string>& args,
              std::optional<std::size_t> columns = std::nullopt) {
  sim::KernelSimulator kernel(test::example_host(host));
  sim::SimulatedModules modules(kernel, true);
  ScratchDir state;
  std::vector<std::string> all{"status"};
  all.insert(all.end(), args.begin(), args.end());
  cli::Context context;
  context.out_columns = columns;
  return test::run_cli_on(kernel, modules, (state.path() / "state").string(), all, "cli-test",
                          context);
}

}  // namespace

BOOST_AUTO_TEST_CASE(status_narrows_to_the_groups_of_the_devices_named) {
  // The workstation's GPU (group 1, with its audio function), by its short address, and the
  // USB controller's group by number.
  Ran ran = status_of("workstation", {"01:00.0"});
  BOOST_TEST(ran.code == cli::kExitOk, ran.err);
  BOOST_TEST(contains(ran.out, "\nIOMMU group 1\n"), ran.out);
  BOOST_TEST(contains(ran.out, "0000:01:00.1"), ran.out);  // the whole group
  BOOST_TEST(!contains(ran.out, "IOMMU group 0"), ran.out);
  BOOST_TEST(contains(ran.out, "3 devices in 1 IOMMU group"), ran.out);  // the port, GPU, audio

  Ran two = status_of("workstation", {"0000:01:00.0", "0", "--json"});
  BOOST_TEST(two.code == cli::kExitOk, two.err);
  BOOST_TEST(contains(two.out, "\"group\": 0,"), two.out);
  BOOST_TEST(contains(two.out, "\"group\": 1,"), two.out);
  BOOST_TEST(!contains(two.out, "\"group\": 2,"), two.out);
}

BOOST_AUTO_TEST_CASE(a_selector_that_is_not_on_the_host_exits_64_naming_it) {
  for (const auto& [selector, says] : std::vector<std::pair<std::string, std::string>>{
           {"99:00.0", "no PCI device 0000:99:00.0 on this host"},
           {"999", "IOMMU group 999 is not on this host"},
           {"gpu",
            "'gpu' is neither a PCI address (0000:01:00.0, or 01:00.0) nor an IOMMU group "
            "number"}}) {
    BOOST_TEST_CONTEXT(selector) {
      Ran ran = status_of("workstation", {selector});
      BOOST_TEST(ran.code == cli::kExitUsage);
      BOOST_TEST(contains(ran.err, says), ran.err);
      BOOST_TEST(ran.out.empty());
    }
  }
}

BOOST_AUTO_TEST_CASE(columns_have_headings_and_bridge_groups_fold_on_a_big_host) {
  Ran small = status_of("workstation", {});
  BOOST_TEST(contains(small.out, "  ADDRESS       KIND      IDS          DRIVER"), small.out);
  BOOST_TEST(!contains(small.out, "bridges and root ports only"), small.out);
  Ran big = status_of("gpu-server", {});  // 38 groups
  BOOST_TEST(contains(big.out,
                      "\nIOMMU groups of bridges and root ports only (`status GROUP` "
                      "lists one):\n  2, 5, 7, 9, 11, "),
             big.out);
  BOOST_TEST(!contains(big.out, "\nIOMMU group 2\n"), big.out);
  // Asked for by number, a folded group is shown.
  Ran one = status_of("gpu-server", {"2"});
  BOOST_TEST(contains(one.out, "\nIOMMU group 2\n"), one.out);
}

BOOST_AUTO_TEST_CASE(findings_are_kept_for_the_devices_shown) {
  HostSnapshot host;
  PciDevice a, b;
  a.address = *PciAddress::parse("0000:01:00.0");
  a.iommu_group = 1;
  b.address = *PciAddress::parse("0000:02:00.0");
  b.iommu_group = 2;
  host.devices = {a, b};
  host.groups[1].members = {a.address};
  host.groups[2].members = {b.address};
  host.findings.emplace_back(Finding::Kind::Malformed, "/sys/x", "of a", a.address);
  host.findings.emplace_back(Finding::Kind::Malformed, "/sys/y", "of b", b.address);
  host.findings.emplace_back(Finding::Kind::Unreadable, "/sys/z", "of none");
  auto selected = cli::select_for_status(host, {"02:00.0"});
  BOOST_TEST_REQUIRE(std::holds_alternative<cli::StatusSelection>(selected));
  const HostSnapshot shown = cli::narrowed(host, std::get<cli::StatusSelection>(selected));
  BOOST_TEST(shown.devices.size() == 1u);
  BOOST_TEST(shown.findings.size() == 2u);
  BOOST_TEST(shown.findings.front().message == "of b");
}

namespace {

Ran status_at_width(const std::string& host, std::size_t columns,
                    const std::vector<std::string>& args = {}) {
  return status_of(host, args, columns);
}

std::size_t widest_line(const std::string& text) {
  std::size_t widest = 0;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    widest = std::max(widest, end - start);
  }
  return widest;
}

}  // namespace

// On a 100-column terminal every line of the big server's status fits (the device name kept,
// the class and the vendor's company words given up first); through a pipe, or with --full,
// lines are whole, as lspci prints them.
BOOST_AUTO_TEST_CASE(status_lines_fit_a_terminal_of_100_columns) {
  Ran fitted = status_at_width("gpu-server", 100);
  BOOST_TEST(fitted.code == cli::kExitOk, fitted.err);
  BOOST_TEST(widest_line(fitted.out) <= 100u, fitted.out);
  BOOST_TEST(contains(fitted.out, "IOMMU: on (dmar0 ... dmar7, 8 units)"), fitted.out);
  // A host folding hundreds of bridge groups wraps their numbers to the width too.
  BOOST_TEST(contains(fitted.out, "one):\n  2, 5, 7, "), fitted.out);
  BOOST_TEST(contains(fitted.out, "node 0   NVIDIA Corporation GH100 [H100 PCIe]\n"), fitted.out);
  BOOST_TEST(contains(fitted.out, "node 0   Samsung NVMe SSD Controller PM173X\n"), fitted.out);
  BOOST_TEST(contains(fitted.out, "node 0   Intel C620 Series Chipset Family USB...\n"),
             fitted.out);

  Ran piped = status_at_width("gpu-server", 0);
  BOOST_TEST(widest_line(piped.out) > 100u);
  BOOST_TEST(contains(piped.out,
                      "USB controller: Intel Corporation C620 Series Chipset Family "
                      "USB 3.0 xHCI Controller\n"),
             piped.out);
  Ran full = status_at_width("gpu-server", 100, {"--full"});
  BOOST_TEST(full.out == piped.out);
  BOOST_TEST(status_at_width("gpu-server", 100, {"-l"}).out == piped.out);

  // A narrow terminal: the description keeps its floor of columns rather than vanish.
  Ran narrow = status_at_width("workstation", 40);
  BOOST_TEST(contains(narrow.out, "nvidia         NVIDIA AD102 [GeForce...\n"), narrow.out);
}

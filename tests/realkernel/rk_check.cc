// vfio-rk-check: what the real-kernel suite asks the guest's kernel directly, without the tool.
// Built static, so the guest needs nothing else to run it; it reads /sys, /proc and /dev only.
//
//   vfio-rk-check viable BDF                    open /dev/vfio/<group of BDF>, ask
//                                               VFIO_GROUP_GET_STATUS: exit 0 viable, 1 not
//   vfio-rk-check dump LABEL                    every PCI device's driver and driver_override,
//                                               and the /dev/vfio/N nodes, in the normalized
//                                               form the simulator's side prints too
//   vfio-rk-check status-agrees FILE            FILE (`status --json`) says what /sys says, and
//                                               names as held open exactly the groups whose
//                                               /dev/vfio/N some process in /proc holds
//   vfio-rk-check remove-on-bind TRIGGER VICTIM SECONDS
//                                               listen to the kernel's uevents; when TRIGGER
//                                               binds to vfio-pci, remove VICTIM at once
//                                               (creates /run/rk-armed once listening)
//   vfio-rk-check reprobe-on-unbind BDF SECONDS
//                                               the same; when BDF is unbound from any driver,
//                                               write it to drivers_probe at once
//   vfio-rk-check write-errno PATH VALUE        one write(2) of VALUE to PATH; prints "ok" or
//                                               the errno's name (EBUSY), exit 0 either way
//
// Exit 2 for any error of its own.
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/vfio.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;
const fs::path kDevices = "/sys/bus/pci/devices";

std::optional<std::string> link_leaf(const fs::path& link) {
  std::error_code ec;
  const fs::path target = fs::read_symlink(link, ec);
  if (ec) return std::nullopt;
  return target.filename().string();
}

std::string read_trimmed(const fs::path& file) {
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  return text;
}

std::optional<std::string> override_of(const std::string& bdf) {
  const std::string text = read_trimmed(kDevices / bdf / "driver_override");
  if (text == "(null)") return std::nullopt;
  return text;
}

std::vector<std::string> device_addresses() {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(kDevices)) {
    out.push_back(entry.path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

int viable(const std::string& bdf) {
  const auto group = link_leaf(kDevices / bdf / "iommu_group");
  if (!group) {
    std::cout << bdf << ": no iommu_group\n";
    return 2;
  }
  const std::string node = "/dev/vfio/" + *group;
  const int fd = ::open(node.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    std::cout << node << ": " << std::strerror(errno) << "\n";
    return 2;
  }
  vfio_group_status status{};
  status.argsz = sizeof status;
  const int rc = ::ioctl(fd, VFIO_GROUP_GET_STATUS, &status);
  const int error = errno;
  ::close(fd);
  if (rc != 0) {
    std::cout << node << ": VFIO_GROUP_GET_STATUS: " << std::strerror(error) << "\n";
    return 2;
  }
  const bool ok = (status.flags & VFIO_GROUP_FLAGS_VIABLE) != 0;
  std::cout << "group " << *group << " (" << bdf << "): " << (ok ? "viable" : "NOT viable") << "\n";
  return ok ? 0 : 1;
}

int dump(const std::string& label) {
  std::cout << "DUMP " << label << "\n";
  for (const auto& bdf : device_addresses()) {
    std::cout << "dev " << bdf << " driver=" << link_leaf(kDevices / bdf / "driver").value_or("-")
              << " override=" << override_of(bdf).value_or("-") << "\n";
  }
  std::set<unsigned long> nodes;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/dev/vfio", ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string::npos) {
      nodes.insert(std::stoul(name));
    }
  }
  std::cout << "vfio-nodes";
  for (const auto n : nodes) std::cout << " " << n;
  std::cout << "\nEND DUMP\n";
  return 0;
}

// A JSON value as the text /sys would give for it: null -> nullopt.
std::optional<std::string> text_of(const nlohmann::json& value) {
  if (value.is_null()) return std::nullopt;
  if (value.is_number()) return std::to_string(value.get<long>());
  return value.get<std::string>();
}

// The IOMMU groups whose /dev/vfio/N a process holds open now (its /proc/<pid>/fd links).
std::set<std::string> held_groups() {
  std::set<std::string> held;
  std::error_code ec;
  for (const auto& process : fs::directory_iterator("/proc", ec)) {
    std::error_code gone;  // a process that exits meanwhile
    for (const auto& fd : fs::directory_iterator(process.path() / "fd", gone)) {
      const fs::path target = fs::read_symlink(fd.path(), gone);
      if (!gone && target.parent_path() == "/dev/vfio" && target.filename() != "vfio")
        held.insert(target.filename().string());
    }
  }
  return held;
}

int status_agrees(const std::string& file) {
  std::ifstream in(file);
  const nlohmann::json status = nlohmann::json::parse(in);
  std::vector<std::string> problems;
  auto differ = [&](const std::string& what, const std::optional<std::string>& tool,
                    const std::optional<std::string>& kernel) {
    if (tool != kernel) {
      problems.push_back(what + ": status says " + tool.value_or("null") + ", the kernel " +
                         kernel.value_or("null"));
    }
  };

  std::error_code ec;
  const bool iommu_active = fs::exists("/sys/class/iommu") && !fs::is_empty("/sys/class/iommu");
  differ("iommu.active", status["iommu"]["active"].get<bool>() ? "true" : "false",
         iommu_active ? "true" : "false");
  differ("vfio_pci.loaded", status["vfio_pci"]["loaded"].get<bool>() ? "true" : "false",
         fs::exists("/sys/bus/pci/drivers/vfio-pci") ? "true" : "false");

  const std::set<std::string> held = held_groups();
  std::set<std::string> seen;
  for (const auto& device : status["devices"]) {
    const std::string bdf = device["address"].get<std::string>();
    seen.insert(bdf);
    const fs::path dir = kDevices / bdf;
    if (!fs::exists(dir)) {
      problems.push_back(bdf + ": in status, not in the kernel");
      continue;
    }
    differ(bdf + " vendor", text_of(device["vendor"]), read_trimmed(dir / "vendor").substr(2));
    differ(bdf + " device", text_of(device["device"]), read_trimmed(dir / "device").substr(2));
    differ(bdf + " class", text_of(device["class"]), read_trimmed(dir / "class"));
    differ(bdf + " driver", text_of(device["driver"]), link_leaf(dir / "driver"));
    // The tool does not read a held group's driver_override (that read can block) and says so.
    if (!device.value("driver_override_unread", false))
      differ(bdf + " driver_override", text_of(device["driver_override"]), override_of(bdf));
    const auto group = link_leaf(dir / "iommu_group");
    differ(bdf + " iommu_group", text_of(device["iommu_group"]), group);
    bool says_held = false;
    for (const auto& hazard : device.value("hazards", nlohmann::json::array()))
      says_held = says_held || hazard["kind"] == "held-open";
    differ(bdf + " held open", says_held ? "yes" : "no",
           group && held.count(*group) ? "yes" : "no");
  }
  for (const auto& bdf : device_addresses()) {
    if (!seen.count(bdf)) problems.push_back(bdf + ": in the kernel, not in status");
  }

  std::map<std::string, std::set<std::string>> groups;
  for (const auto& group : status["groups"]) {
    auto& members = groups[std::to_string(group["group"].get<long>())];
    for (const auto& bdf : group["devices"]) members.insert(bdf.get<std::string>());
  }
  std::map<std::string, std::set<std::string>> kernel_groups;
  for (const auto& entry : fs::directory_iterator("/sys/kernel/iommu_groups", ec)) {
    auto& members = kernel_groups[entry.path().filename().string()];
    for (const auto& member : fs::directory_iterator(entry.path() / "devices")) {
      members.insert(member.path().filename().string());
    }
  }
  if (groups != kernel_groups) problems.push_back("the IOMMU groups' members differ");

  for (const auto& p : problems) std::cout << "status disagrees: " << p << "\n";
  std::cout << "status-agrees: " << seen.size() << " devices, " << groups.size() << " groups, "
            << problems.size() << " differences\n";
  return problems.empty() ? 0 : 1;
}

// The uevent's KEY=value fields (NUL-separated after the "action@devpath" header).
std::map<std::string, std::string> uevent_fields(const char* buffer, std::size_t length) {
  std::map<std::string, std::string> fields;
  for (std::size_t i = 0; i < length;) {
    const std::string item(buffer + i);
    const auto eq = item.find('=');
    if (eq != std::string::npos) fields[item.substr(0, eq)] = item.substr(eq + 1);
    i += item.size() + 1;
  }
  return fields;
}

// Listens to the kernel's uevents (creating /run/rk-armed once it does) until one with this
// ACTION (and DRIVER, unless empty) arrives for the PCI device `bdf`; false after `seconds`.
bool wait_for_uevent(const std::string& action, const std::string& driver, const std::string& bdf,
                     int seconds) {
  const int sock = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
  sockaddr_nl address{};
  address.nl_family = AF_NETLINK;
  address.nl_groups = 1;
  if (sock < 0 || ::bind(sock, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    throw std::runtime_error(std::string("uevent socket: ") + std::strerror(errno));
  }
  std::ofstream("/run/rk-armed") << "armed\n";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{sock, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    char buffer[8192];
    const ssize_t n = ::recv(sock, buffer, sizeof buffer - 1, 0);
    if (n <= 0) continue;
    buffer[n] = '\0';
    auto fields = uevent_fields(buffer, static_cast<std::size_t>(n));
    if (fields["ACTION"] == action && (driver.empty() || fields["DRIVER"] == driver) &&
        fields["PCI_SLOT_NAME"] == bdf) {
      ::close(sock);
      return true;
    }
  }
  ::close(sock);
  return false;
}

bool write_sys(const fs::path& file, const std::string& value) {
  std::ofstream out(file);
  out << value << std::flush;
  return static_cast<bool>(out);
}

int remove_on_bind(const std::string& trigger, const std::string& victim, int seconds) {
  if (!wait_for_uevent("bind", "vfio-pci", trigger, seconds)) {
    std::cout << "remove-on-bind: " << trigger << " never bound to vfio-pci\n";
    return 1;
  }
  const bool ok = write_sys(kDevices / victim / "remove", "1");
  std::cout << "remove-on-bind: " << trigger << " bound to vfio-pci, removed " << victim
            << (ok ? "" : " (the write FAILED)") << "\n";
  return ok ? 0 : 2;
}

// What a hotplug agent that re-probes unbound devices does: whatever driver_override says at that
// moment decides which driver takes the device.
int reprobe_on_unbind(const std::string& bdf, int seconds) {
  if (!wait_for_uevent("unbind", "", bdf, seconds)) {
    std::cout << "reprobe-on-unbind: " << bdf << " was never unbound\n";
    return 1;
  }
  const bool ok = write_sys("/sys/bus/pci/drivers_probe", bdf);
  std::cout << "reprobe-on-unbind: " << bdf << " unbound, probed it again"
            << (ok ? "" : " (the write FAILED)") << "\n";
  return ok ? 0 : 2;
}

// What the kernel answers one write(2): "ok" or the errno's name, as the simulator's side
// prints it too.
int write_errno(const std::string& path, const std::string& value) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    std::cout << strerrorname_np(errno) << "\n";
    return 0;
  }
  const ssize_t n = ::write(fd, value.data(), value.size());
  const int error = n < 0 ? errno : 0;
  ::close(fd);
  std::cout << (error == 0 ? "ok" : strerrorname_np(error)) << "\n";
  return 0;
}

int usage() {
  std::cerr << "usage: vfio-rk-check viable BDF | dump LABEL | status-agrees FILE | "
               "remove-on-bind TRIGGER VICTIM SECONDS | reprobe-on-unbind BDF SECONDS | "
               "write-errno PATH VALUE\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() == 2 && args[0] == "viable") return viable(args[1]);
    if (args.size() == 2 && args[0] == "dump") return dump(args[1]);
    if (args.size() == 2 && args[0] == "status-agrees") return status_agrees(args[1]);
    if (args.size() == 4 && args[0] == "remove-on-bind") {
      return remove_on_bind(args[1], args[2], std::stoi(args[3]));
    }
    if (args.size() == 3 && args[0] == "write-errno") return write_errno(args[1], args[2]);
    if (args.size() == 3 && args[0] == "reprobe-on-unbind") {
      return reprobe_on_unbind(args[1], std::stoi(args[2]));
    }
  } catch (const std::exception& e) {
    std::cout << "vfio-rk-check: " << e.what() << "\n";
    return 2;
  }
  return usage();
}

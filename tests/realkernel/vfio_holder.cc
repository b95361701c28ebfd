// vfio-holder GROUP BDF: holds a device the way QEMU does, for the real-kernel scenario of
// issue 7 (a release of a device a VM uses is refused with the holder's pid, and nothing
// blocks). Opens /dev/vfio/vfio and /dev/vfio/GROUP, attaches the group to the container with
// the type1 IOMMU, takes the device fd of BDF, prints "holding BDF (group GROUP) as pid PID" and
// waits until SIGTERM/SIGINT. `--group-only` stops after opening the group (a holder that blocks
// no unbind). Exit 0 on a signal, 1 when a step fails (naming it and errno), 64 for usage.
#include <fcntl.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

int fail(const char* step, const std::string& what) {
  std::fprintf(stderr, "vfio-holder: %s %s: %s\n", step, what.c_str(), std::strerror(errno));
  return 1;
}

void on_signal(int) {}

}  // namespace

int main(int argc, char** argv) {
  const bool group_only = argc == 4 && std::string(argv[3]) == "--group-only";
  if (argc != 3 && !group_only) {
    std::fprintf(stderr, "usage: vfio-holder GROUP BDF [--group-only]\n");
    return 64;
  }
  const std::string group_path = std::string("/dev/vfio/") + argv[1];
  const std::string bdf = argv[2];
  const int container = ::open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
  if (container < 0) return fail("open", "/dev/vfio/vfio");
  const int group = ::open(group_path.c_str(), O_RDWR | O_CLOEXEC);
  if (group < 0) return fail("open", group_path);
  if (!group_only) {
    vfio_group_status status{};
    status.argsz = sizeof status;
    if (::ioctl(group, VFIO_GROUP_GET_STATUS, &status) < 0)
      return fail("VFIO_GROUP_GET_STATUS", group_path);
    if (!(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
      errno = EBUSY;
      return fail("use (not viable: a member is on a host driver)", group_path);
    }
    if (::ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) < 0)
      return fail("VFIO_GROUP_SET_CONTAINER", group_path);
    if (::ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0 &&
        ::ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU) < 0)
      return fail("VFIO_SET_IOMMU", "/dev/vfio/vfio");
    if (::ioctl(group, VFIO_GROUP_GET_DEVICE_FD, bdf.c_str()) < 0)
      return fail("VFIO_GROUP_GET_DEVICE_FD", bdf);
  }
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::printf("holding %s (group %s%s) as pid %d\n", bdf.c_str(), argv[1],
              group_only ? ", group fd only" : "", static_cast<int>(::getpid()));
  std::fflush(stdout);
  ::pause();
  return 0;
}

#include "observe/pci_id_database.h"

#include <csetjmp>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

extern "C" {
#include <pci/pci.h>
}

#include <spdlog/spdlog.h>

namespace vfio {
namespace {

// libpci reports a malformed pci.ids through a->error, which must not return. We would rather
// lose the names than the run: the handler logs and exits the lookup through the jump below.
// setjmp/longjmp only ever crosses libpci's C frames.
thread_local std::jmp_buf* lookup_escape = nullptr;

// The GNU attribute, not [[noreturn]]: it is part of the function's type, as in libpci's
// declaration of the handler (clang will not assign one to the other).
__attribute__((noreturn, format(printf, 1, 2))) void on_libpci_error(char* format, ...) {
  char message[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(message, sizeof message, format, args);
  va_end(args);
  std::string_view text(message);
  while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  spdlog::warn("pci.ids: {}; device names are not shown", text);
  if (lookup_escape) std::longjmp(*lookup_escape, 1);
  std::abort();  // unreachable: libpci only errors inside a lookup here
}

__attribute__((format(printf, 1, 2))) void on_libpci_warning(char* format, ...) {
  char message[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(message, sizeof message, format, args);
  va_end(args);
  spdlog::debug("libpci: {}", message);
}

void on_libpci_debug(char*, ...) {}

// Returns libpci's name or null. Kept free of C++ objects with destructors: longjmp leaves it.
const char* lookup_raw(pci_access* access, char* buffer, int size, int flags, int a, int b,
                       bool* failed) {
  std::jmp_buf escape;
  lookup_escape = &escape;
  const char* name = nullptr;
  if (setjmp(escape) == 0) {
    name = pci_lookup_name(access, buffer, size, flags | PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB,
                           a, b);
  } else {
    *failed = true;
  }
  lookup_escape = nullptr;
  return name;
}

}  // namespace

PciIdDatabase::PciIdDatabase(std::optional<std::string> ids_file) : access_(pci_alloc()) {
  access_->error = on_libpci_error;
  access_->warning = on_libpci_warning;
  access_->debug = on_libpci_debug;
  if (!ids_file) {
    if (const char* from_env = std::getenv(kPathVariable); from_env && *from_env) {
      ids_file = from_env;
    }
  }
  if (ids_file) {
    // libpci keeps the pointer; the copy it frees (to_be_freed=1) must come from malloc.
    pci_set_name_list_path(access_, strdup(ids_file->c_str()), 1);
  }
  path_ = access_->id_file_name ? access_->id_file_name : "";
}

PciIdDatabase::~PciIdDatabase() {
  finish_prefetch();
  pci_cleanup(access_);
}

void PciIdDatabase::prefetch(std::vector<PciIds> ids) {
  finish_prefetch();
  if (ids.empty()) return;
  // libpci keeps every name it has looked up in its own hash: lookup() asks again, cheaply.
  prefetching_ = std::thread([this, ids = std::move(ids)] {
    for (const PciIds& i : ids) lookup_now(i);
  });
}

void PciIdDatabase::finish_prefetch() const {
  if (prefetching_.joinable()) prefetching_.join();
}

PciNames PciIdDatabase::lookup(const PciIds& ids) const {
  finish_prefetch();
  return lookup_now(ids);
}

PciNames PciIdDatabase::lookup_now(const PciIds& ids) const {
  PciNames names;
  if (unusable_) return names;
  char buffer[256];
  bool failed = false;
  auto get = [&](int flags, int a, int b) -> std::string {
    if (failed) return {};
    const char* name = lookup_raw(access_, buffer, sizeof buffer, flags, a, b, &failed);
    return name ? name : "";
  };
  names.vendor = get(PCI_LOOKUP_VENDOR, ids.vendor, 0);
  names.device = get(PCI_LOOKUP_DEVICE, ids.vendor, ids.device);
  names.class_name = get(PCI_LOOKUP_CLASS, static_cast<int>(ids.class_code >> 8), 0);
  if (failed) {
    unusable_ = true;  // a malformed database: do not parse it again for every device
    return {};
  }
  return names;
}

}  // namespace vfio

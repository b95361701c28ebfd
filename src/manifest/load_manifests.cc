#include "manifest/load_manifests.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include <fmt/format.h>

#include "manifest/decode_manifest.h"

namespace vfio {
namespace {

namespace fs = std::filesystem;

// A problem with a whole file ("FILE: message"), not with a place in it.
Diagnostic whole_file(const std::string& path, std::string message, ManifestProblem problem) {
  Diagnostic d;
  d.location.file = path;
  d.message = std::move(message);
  d.problem = problem;
  return d;
}

Diagnostic missing(const std::string& path, std::string message) {
  return whole_file(path, std::move(message), ManifestProblem::Missing);
}

// The *.yaml files of a directory, not hidden ones, in name order.
std::vector<std::string> yaml_files_in(const fs::path& directory, std::error_code& ec) {
  std::vector<std::string> names;
  for (fs::directory_iterator it(directory, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code ignored;
    if (name.size() > 5 && name.ends_with(".yaml") && !name.starts_with(".") &&
        !it->is_directory(ignored)) {
      names.push_back(name);
    }
  }
  std::sort(names.begin(), names.end());
  std::vector<std::string> files;
  for (const auto& name : names) files.push_back((directory / name).string());
  return files;
}

void read_file(const std::string& file, ManifestDecoder& decoder) {
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec) {
    decoder.add_problem(missing(file, "cannot read: " + ec.message()));
    return;
  }
  if (size > kMaxManifestBytes) {
    decoder.add_problem(
        whole_file(file,
                   fmt::format("the file is {} bytes; manifests are limited to {} bytes (1 MiB)",
                               size, kMaxManifestBytes),
                   ManifestProblem::Invalid));
    return;
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    decoder.add_problem(missing(file, fmt::format("cannot read: {}", std::strerror(errno))));
    return;
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    decoder.add_problem(missing(file, "cannot read: read error"));
    return;
  }
  decoder.add_text(text.str(), file);
}

}  // namespace

std::vector<std::string> config_dir_manifests(const std::string& config_dir) {
  std::vector<std::string> paths;
  const fs::path dir(config_dir);
  std::error_code ec;
  const fs::path single = dir / "manifest.yaml";
  if (fs::exists(fs::symlink_status(single, ec))) paths.push_back(single.string());
  const fs::path drop_ins = dir / "manifest.d";
  if (fs::exists(fs::symlink_status(drop_ins, ec))) {
    auto files = yaml_files_in(drop_ins, ec);
    if (ec) {
      paths.push_back(drop_ins.string());
    } else {
      paths.insert(paths.end(), files.begin(), files.end());
    }
  }
  return paths;
}

DesiredState load_manifests(const std::vector<std::string>& paths) {
  ManifestDecoder decoder;
  if (paths.empty()) decoder.add_problem(missing("", "no manifest given"));
  for (const auto& path : paths) {
    std::error_code ec;
    const auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
      decoder.add_problem(missing(path, "no such file or directory"));
      continue;
    }
    if (!fs::is_directory(status)) {
      read_file(path, decoder);
      continue;
    }
    auto files = yaml_files_in(path, ec);
    if (ec) {
      decoder.add_problem(missing(path, "cannot list the directory: " + ec.message()));
    } else if (files.empty()) {
      decoder.add_problem(missing(path, "no *.yaml files in this directory"));
    }
    for (const auto& file : files) read_file(file, decoder);
  }
  return std::move(decoder).finish();
}

}  // namespace vfio

#include "manifest/load_manifests.h"

#include <algorithm>

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

// Whether a file in a manifest directory is a manifest: *.yaml or *.yml (editors and kubectl write
// both), not hidden. Anything else there is not read, as kubectl does with a directory.
bool is_manifest_name(const std::string& name) {
  if (name.starts_with(".")) return false;
  return (name.size() > 5 && name.ends_with(".yaml")) ||
         (name.size() > 4 && name.ends_with(".yml"));
}

// The manifest files (*.yaml, *.yml) of a directory, not hidden ones and not directories, in
// name order.
Result<std::vector<std::string>> yaml_files_in(Store& store, const Store::Path& directory) {
  auto entries = store.list(directory);
  if (!entries) return entries.error();
  std::vector<std::string> names;
  for (const auto& name : *entries) {
    if (!is_manifest_name(name)) continue;
    auto entry = store.stat(directory / name);
    if (entry && entry->kind == EntryKind::Directory) continue;
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  std::vector<std::string> files;
  for (const auto& name : names) files.push_back((directory / name).string());
  return files;
}

void read_file(Store& store, const std::string& file, ManifestDecoder& decoder,
               std::vector<ManifestSource>* read) {
  auto entry = store.stat(file);
  if (!entry) {
    decoder.add_problem(missing(file, "cannot read: " + describe_errno(entry.error().error)));
    return;
  }
  if (entry->size > kMaxManifestBytes) {
    decoder.add_problem(
        whole_file(file,
                   fmt::format("the file is {} bytes; manifests are limited to {} bytes (1 MiB)",
                               entry->size, kMaxManifestBytes),
                   ManifestProblem::Invalid));
    return;
  }
  auto text = store.read(file);
  if (!text) {
    decoder.add_problem(missing(file, "cannot read: " + describe_errno(text.error().error)));
    return;
  }
  decoder.add_text(*text, file);
  if (read) read->push_back({file, std::move(*text)});
}

}  // namespace

std::vector<std::string> manifest_files(Store& store, const std::string& path) {
  auto entry = store.stat(path);
  if (!entry || entry->kind != EntryKind::Directory) return {path};
  auto files = yaml_files_in(store, path);
  return files ? *files : std::vector<std::string>{};
}

std::vector<std::string> config_dir_manifests(Store& store, const std::string& config_dir) {
  std::vector<std::string> paths;
  const Store::Path dir(config_dir);
  // Looked at, not through: a manifest.yaml that is a dangling link is named, so that
  // load_manifests() says it is missing instead of it being passed over in silence.
  auto exists = [&](const Store::Path& p) {
    auto entry = store.stat(p, Links::DoNotFollow);
    return !entry || entry->kind != EntryKind::Missing;
  };
  for (const char* name : {"manifest.yaml", "manifest.yml"}) {
    const Store::Path single = dir / name;
    if (exists(single)) paths.push_back(single.string());
  }
  const Store::Path drop_ins = dir / "manifest.d";
  if (exists(drop_ins)) {
    auto files = yaml_files_in(store, drop_ins);
    if (!files) {
      paths.push_back(drop_ins.string());
    } else {
      paths.insert(paths.end(), files->begin(), files->end());
    }
  }
  return paths;
}

DesiredState load_manifests(Store& store, const std::vector<std::string>& paths,
                            std::vector<ManifestSource>* read) {
  ManifestDecoder decoder;
  if (paths.empty()) decoder.add_problem(missing("", "no manifest given"));
  for (const auto& path : paths) {
    auto entry = store.stat(path);
    if (!entry || entry->kind == EntryKind::Missing) {
      decoder.add_problem(missing(path, "no such file or directory"));
      continue;
    }
    if (entry->kind != EntryKind::Directory) {
      read_file(store, path, decoder, read);
      continue;
    }
    auto files = yaml_files_in(store, path);
    if (!files) {
      decoder.add_problem(
          missing(path, "cannot list the directory: " + describe_errno(files.error().error)));
    } else if (files->empty()) {
      decoder.add_problem(missing(path, "no *.yaml or *.yml files in this directory"));
    }
    if (files) {
      for (const auto& file : *files) read_file(store, file, decoder, read);
    }
  }
  return std::move(decoder).finish();
}

DesiredState decode_manifest_sources(const std::vector<ManifestSource>& sources) {
  ManifestDecoder decoder;
  if (sources.empty()) decoder.add_problem(missing("", "no manifest given"));
  for (const auto& source : sources) {
    if (source.text.size() > kMaxManifestBytes) {
      decoder.add_problem(
          whole_file(source.file,
                     fmt::format("the file was {} bytes; manifests are limited to {} bytes (1 MiB)",
                                 source.text.size(), kMaxManifestBytes),
                     ManifestProblem::Invalid));
      continue;
    }
    decoder.add_text(source.text, source.file);
  }
  return std::move(decoder).finish();
}

}  // namespace vfio

// Reading a manifest set through the store: files, and directories of *.yaml and *.yml files.
#pragma once

#include <string>
#include <vector>

#include "manifest/desired_state.h"
#include "store/store.h"

namespace vfio {

// One manifest file as it was read: what a saved plan keeps, so that applying it later applies
// what was planned, whatever the file says by then.
struct ManifestSource {
  std::string file;
  std::string text;
};

// Each path is a file or a directory whose *.yaml and *.yml files (not hidden ones) are read in
// name order; at least one file must result. Throws ManifestError: problem Missing when a path
// is missing or unreadable or a directory holds no *.yaml or *.yml, Invalid when any content is
// wrong.
// `read`, when given, receives each file's name and text as read.
DesiredState load_manifests(Store& store, const std::vector<std::string>& paths,
                            std::vector<ManifestSource>* read = nullptr);

// The desired state of manifests read before (a saved plan's), decoded as load_manifests()
// decodes files. Throws ManifestError.
DesiredState decode_manifest_sources(const std::vector<ManifestSource>& sources);

// The files load_manifests() reads for one path: the path itself when it is not a directory,
// else its *.yaml and *.yml files (not hidden ones, not directories) in name order. Empty for a
// directory that cannot be listed.
std::vector<std::string> manifest_files(Store& store, const std::string& path);

// The configuration directory `apply --boot` reads when no manifest is named.
inline constexpr const char* kDefaultConfigDir = "/etc/vfio-reconcile";

// The manifests of a configuration directory: DIR/manifest.yaml and DIR/manifest.yml, then the
// *.yaml and *.yml files of DIR/manifest.d (not hidden ones) in name order, each named. Either may
// be missing, and none at all is an empty list. A manifest.yaml that exists but cannot be read, or
// a manifest.d that cannot be listed, is named itself, so that load_manifests() reports why.
std::vector<std::string> config_dir_manifests(Store& store, const std::string& config_dir);

}  // namespace vfio

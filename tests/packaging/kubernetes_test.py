#!/usr/bin/env python3
"""packaging/kubernetes/*.yaml: every document parses, the DaemonSet is what the guide says
(privileged init container running `apply --boot`, the host's /sys, /run/vfio-reconcile and
/lib/modules, the ConfigMap as /etc/vfio-reconcile/manifest.d, a pause container, one node class),
and the ConfigMap's manifest validates, applies to the example 8-GPU server in the simulator and
is refused (78) on the example workstation.

usage: kubernetes_test.py VFIO_RECONCILE VFIO_SIM_RUN SOURCE_DIR
"""
import pathlib
import subprocess
import sys
import tempfile

import yaml

binary, sim_run, source = sys.argv[1], sys.argv[2], pathlib.Path(sys.argv[3])
failures = []


def check(ok, message):
    if not ok:
        failures.append(message)


documents = []
for path in sorted((source / "packaging/kubernetes").glob("*.yaml")):
    documents += [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
by_kind = {}
for d in documents:
    by_kind.setdefault(d["kind"], []).append(d)
check(set(by_kind) == {"Namespace", "ConfigMap", "DaemonSet"}, f"kinds: {sorted(by_kind)}")
(config_map,) = by_kind["ConfigMap"]
(daemon_set,) = by_kind["DaemonSet"]

spec = daemon_set["spec"]["template"]["spec"]
check(spec["nodeSelector"].items() <= daemon_set["spec"]["template"]["metadata"]["labels"].items(),
      "the pods do not carry their node class label")
(init,) = spec["initContainers"]
check(init["command"] == ["/usr/sbin/vfio-reconcile", "apply", "--boot"],
      f"init command: {init['command']}")
check(init["securityContext"].get("privileged") is True, "the init container is not privileged")
mounts = {m["mountPath"]: m for m in init["volumeMounts"]}
volumes = {v["name"]: v for v in spec["volumes"]}
expected_host_paths = {"/sys": "/sys", "/run/vfio-reconcile": "/run/vfio-reconcile",
                       "/lib/modules": "/lib/modules"}
for mount_path, host_path in expected_host_paths.items():
    volume = volumes.get(mounts.get(mount_path, {}).get("name"), {})
    check(volume.get("hostPath", {}).get("path") == host_path,
          f"{mount_path} is not the host's {host_path}")
check(not mounts["/sys"].get("readOnly"), "/sys must be writable")
manifests = volumes[mounts["/etc/vfio-reconcile/manifest.d"]["name"]]
check(manifests.get("configMap", {}).get("name") == config_map["metadata"]["name"],
      "manifest.d is not the ConfigMap")
check([c["image"].split(":")[0] for c in spec["containers"]] == ["registry.k8s.io/pause"],
      "the long-running container is not pause")

# The ConfigMap's files, laid out as the pod sees them, through the real binary.
with tempfile.TemporaryDirectory() as scratch:
    config_dir = pathlib.Path(scratch) / "etc"
    (config_dir / "manifest.d").mkdir(parents=True)
    for name, text in config_map["data"].items():
        check(name.endswith(".yaml"), f"ConfigMap key {name} is not read (not *.yaml)")
        (config_dir / "manifest.d" / name).write_text(text)
    ran = subprocess.run([binary, "validate", str(config_dir / "manifest.d")],
                         capture_output=True, text=True)
    check(ran.returncode == 0, f"validate: {ran.returncode} {ran.stdout}{ran.stderr}")
    for host, code in (("gpu-server", 0), ("workstation", 78)):
        ran = subprocess.run([sim_run, str(source / f"examples/hosts/{host}.yaml"), "--", "apply",
                              "--boot", "--config-dir", str(config_dir)],
                             capture_output=True, text=True)
        check(ran.returncode == code,
              f"apply --boot on {host}: exit {ran.returncode}, expected {code}\n{ran.stdout}"
              f"{ran.stderr}")

for f in failures:
    print("FAIL:", f)
print(f"kubernetes: {len(failures)} failed" if failures else "kubernetes: all passed")
sys.exit(1 if failures else 0)

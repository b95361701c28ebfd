#!/usr/bin/env bash
# What the Debian package holds and what its maintainer scripts do.
#   deb_test.sh DEB VERSION
# Contents: the binary, the unit (running the installed binary with --boot), the man page, the
# bash, zsh and fish completions, the schemas, the examples, the manifest.d directory, the hot-add
# unit and udev rule, the initramfs-tools hook and boot script, the dracut module. Maintainer
# scripts: they enable the unit for the next boot and never start, stop, restart or reload it,
# rebuild an initramfs or replay udev events (installing or upgrading must not touch a device).
# The binary from the package runs and validates a shipped example.
set -uo pipefail
deb=$1
version=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for path in ./usr/sbin/vfio-reconcile ./lib/systemd/system/vfio-reconcile.service \
  ./usr/share/man/man8/vfio-reconcile.8.gz ./usr/share/bash-completion/completions/vfio-reconcile \
  ./usr/share/zsh/vendor-completions/_vfio-reconcile \
  ./usr/share/fish/vendor_completions.d/vfio-reconcile.fish \
  ./usr/share/vfio-reconcile/manifest.schema.json ./usr/share/vfio-reconcile/plan.schema.json \
  ./usr/share/vfio-reconcile/apply.schema.json ./usr/share/vfio-reconcile/status.schema.json \
  ./usr/share/vfio-reconcile/validate.schema.json ./usr/share/vfio-reconcile/owners.schema.json \
  ./usr/share/doc/vfio-reconcile/examples/workstation-gpu.yaml \
  ./usr/share/doc/vfio-reconcile/copyright ./etc/vfio-reconcile/manifest.d/ \
  ./lib/systemd/system/vfio-reconcile-hotplug@.service ./lib/udev/rules.d/70-vfio-reconcile.rules \
  ./usr/lib/vfio-reconcile/early-claim ./usr/share/initramfs-tools/hooks/vfio-reconcile \
  ./usr/share/initramfs-tools/scripts/init-top/early-vfio-reconcile \
  ./usr/lib/dracut/modules.d/90vfio-reconcile/module-setup.sh \
  ./usr/lib/dracut/modules.d/90vfio-reconcile/vfio-reconcile-early.sh; do
  grep -qxF "$path" <<<"$contents" || fail "the package lacks $path"
done
# Nothing of the build or the tests: no simulator, no test host, no benchmark.
grep -E 'vfio-sim|vfio-bench|example-hosts|/include/|\.a$' <<<"$contents" &&
  fail "the package holds build or test files"

dpkg-deb -x "$deb" "$scratch/root"
root=$scratch/root
grep -qx "ExecStart=/usr/sbin/vfio-reconcile apply --boot" \
  "$root/lib/systemd/system/vfio-reconcile.service" || fail "the unit does not run /usr/sbin/vfio-reconcile apply --boot"
"$root/usr/sbin/vfio-reconcile" --version | grep -x "vfio-reconcile $version" >/dev/null ||
  fail "the packaged binary does not say version $version"
"$root/usr/sbin/vfio-reconcile" validate "$root/usr/share/doc/vfio-reconcile/examples/workstation-gpu.yaml" \
  >/dev/null || fail "the packaged binary does not validate the packaged example"
grep -qx "ExecStart=/usr/sbin/vfio-reconcile apply --boot --device %I" \
  "$root/lib/systemd/system/vfio-reconcile-hotplug@.service" ||
  fail "the hot-add unit does not run /usr/sbin/vfio-reconcile apply --boot --device %I"
# The initramfs scripts name the installed paths, and each of them exists in the package.
for script in usr/lib/vfio-reconcile/early-claim usr/share/initramfs-tools/hooks/vfio-reconcile \
  usr/share/initramfs-tools/scripts/init-top/early-vfio-reconcile \
  usr/lib/dracut/modules.d/90vfio-reconcile/module-setup.sh; do
  grep -q "@" "$root/$script" && grep -n "@[A-Z_]*@" "$root/$script" && fail "$script has a placeholder left"
  for named in $(grep -oE '/usr/(s?bin|lib|share)/vfio-reconcile[^ "]*' "$root/$script" | sort -u); do
    [ -e "$root$named" ] || fail "$script names $named, which the package does not hold"
  done
done
zcat "$root/usr/share/man/man8/vfio-reconcile.8.gz" | grep "^.TH VFIO-RECONCILE 8 .*vfio-reconcile $version" >/dev/null ||
  fail "the man page does not carry version $version"

dpkg-deb -e "$deb" "$scratch/control"
scripts=$(cat "$scratch"/control/{preinst,postinst,prerm,postrm} 2>/dev/null)
grep -q "deb-systemd-helper enable 'vfio-reconcile.service'" "$scratch/control/postinst" ||
  fail "postinst does not enable the unit"
# Nor do they rebuild an initramfs or replay udev events: the initramfs gets the early claim at
# the next update-initramfs (or dracut) the administrator runs.
if grep -nE "update-initramfs|dracut|udevadm|activate.*update-initramfs" <<<"$scripts"; then
  fail "a maintainer script rebuilds the initramfs or triggers udev (above)"
fi
[ -e "$scratch/control/triggers" ] && grep -n "update-initramfs" "$scratch/control/triggers" &&
  fail "the package triggers update-initramfs (above)"
if grep -nE "deb-systemd-invoke|systemctl .*(start|stop|restart|reload-or|try-)|invoke-rc.d" <<<"$scripts" |
  grep -v "daemon-reload"; then
  fail "a maintainer script starts, stops or restarts a unit (above)"
fi
dpkg-deb -I "$deb" | grep "^ Depends:.*libkmod2" >/dev/null || fail "Depends lacks libkmod2 (shlibs)"

if ((failures)); then
  echo "deb: $failures failed"
  exit 1
fi
echo "deb: contents and maintainer scripts as expected ($(basename "$deb"))"

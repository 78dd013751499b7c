#!/usr/bin/env bash
# Builds the .deb and .rpm from a build tree with CPack, checks their
# metadata and contents, runs lintian on the .deb, and runs the binary and
# the man page installed from the .deb into a temporary root.
#   usage: check_packages.sh BUILD_DIR     (configured with CMAKE_INSTALL_PREFIX=/usr)
set -u
build=${1:?usage: check_packages.sh BUILD_DIR}
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$build/CMakeCache.txt")
if [ "$prefix" != /usr ]; then
  echo "skipped: packages are built from a tree configured with CMAKE_INSTALL_PREFIX=/usr (this one: $prefix)"
  exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@" >"$work/out" 2>&1; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAIL: $what"
    sed 's/^/  /' "$work/out"
  fi
}

version=$("$build/src/retryx" --version | awk '{print $2}')
cpack --config "$build/CPackConfig.cmake" -B "$work/pkg" -G "DEB;RPM" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log"; echo "0 passed, 1 failed"; exit 1; }
deb=$(ls "$work"/pkg/*.deb)
rpm=$(ls "$work"/pkg/*.rpm)

# Metadata: one version everywhere, dependencies found, the right section.
check "deb version is --version's ($version)" test "$(dpkg-deb -f "$deb" Version)" = "$version"
check "deb name" test "$(dpkg-deb -f "$deb" Package)" = retryx
check "deb section" test "$(dpkg-deb -f "$deb" Section)" = utils
# libssl3 and libhiredis0.14: the retryx-store helper's (the Redis store).
for dep in libc6 libstdc++6 libfmt9 libboost-program-options1.81.0 libpcre2-8-0 libssl3 libhiredis0.14; do
  check "deb depends on $dep" grep -q "$dep" <<<"$(dpkg-deb -f "$deb" Depends)"
done
check "rpm version is --version's" test "$(rpm -qp --queryformat '%{VERSION}' "$rpm" 2>/dev/null)" = "$version"
for lib in libpcre2-8.so libssl.so.3 libhiredis.so.0.14; do
  check "rpm requires $lib" grep -q "$lib" <<<"$(rpm -qpR "$rpm" 2>/dev/null)"
done

# Contents: where Debian's tools and shells look for them.
for file in usr/bin/retryx usr/libexec/retryx/retryx-store usr/share/man/man1/retryx.1.gz usr/share/bash-completion/completions/retryx \
  usr/share/zsh/vendor-completions/_retryx usr/share/fish/vendor_completions.d/retryx.fish \
  usr/share/doc/retryx/copyright usr/share/doc/retryx/changelog.gz; do
  check "deb has /$file" grep -qx "\./$file" <<<"$(dpkg-deb -c "$deb" | awk '{print $6}')"
  check "rpm has /$file" grep -qx "/$file" <<<"$(rpm -qpl "$rpm" 2>/dev/null)"
done

# lintian: no errors (warnings and notes are shown, not fatal).
lintian "$deb" >"$work/lintian" 2>&1
check "lintian reports no error" bash -c "! grep -q '^E:' '$work/lintian'"
grep -E '^[EW]:' "$work/lintian" || true

# Installed into a temporary root: the binary runs and the page renders.
dpkg-deb -x "$deb" "$work/root"
check "installed binary: --version" test "$("$work/root/usr/bin/retryx" --version)" = "retryx $version"
check "installed binary: gives the last status" bash -c "'$work/root/usr/bin/retryx' -q -a 2 -d 0 -- sh -c 'exit 3'; test \$? -eq 3"
check "installed helper: exits 0 at the end of its stdin" \
  bash -c "'$work/root/usr/libexec/retryx/retryx-store' </dev/null"
check "installed man page renders" bash -c "MANPAGER=cat MANWIDTH=80 man -l '$work/root/usr/share/man/man1/retryx.1.gz' | grep -q 'EXIT STATUS'"
check "installed bash completion loads" bash -c "source '$work/root/usr/share/bash-completion/completions/retryx' && complete -p retryx"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]

# Packages: `cpack -G DEB` and `cpack -G RPM` from a build directory
# configured with -DCMAKE_INSTALL_PREFIX=/usr (scripts/package does it).
# Version, name and summary come from project() in CMakeLists.txt: the
# version is set there and nowhere else.
set(CPACK_PACKAGE_NAME retryx)
set(CPACK_PACKAGE_VENDOR "retryx developers")
set(CPACK_PACKAGE_CONTACT "retryx developers <retryx@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "run a command and retry it with jittered backoff")
set(CPACK_PACKAGE_DESCRIPTION
    "retryx runs a command and, when it fails in a way worth retrying, runs it
again after a jittered backoff, until it succeeds, a limit is reached, or
the failure is known to be permanent. It keeps timeout(1)'s conventions
for exit statuses, process groups and signals, logs each attempt as text
or JSON Lines, and is made for shell scripts, cron jobs and CI steps.")
set(CPACK_PACKAGE_HOMEPAGE_URL "https://example.org/retryx")
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)

# Debian: dependencies from dpkg-shlibdeps; native package (no revision).
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)

# RPM: dependencies found by rpmbuild itself.
set(CPACK_RPM_PACKAGE_LICENSE MIT)
set(CPACK_RPM_PACKAGE_GROUP "Applications/System")
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_AUTOREQ ON)
# Directories every system already owns are not the package's.
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
    /usr/share/man /usr/share/man/man1 /usr/share/bash-completion /usr/share/bash-completion/completions
    /usr/share/zsh /usr/share/zsh/vendor-completions /usr/share/fish /usr/share/fish/vendor_completions.d
    /usr/share/doc)
include(CPack)

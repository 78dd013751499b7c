# Packages: `cpack -G DEB` from the build directory. Version, name and
# summary come from project() in the top-level CMakeLists.txt.
set(CPACK_PACKAGE_NAME retryx)
set(CPACK_PACKAGE_VENDOR "retryx developers")
set(CPACK_PACKAGE_CONTACT "retryx developers <retryx@example.org>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION
    "retryx runs a command and retries it with jittered backoff when it fails in a way worth retrying, with timeout(1)-style exit statuses, for shell scripts, cron jobs and CI steps.")
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
include(CPack)

# Sourced by the launchers: the environment the daemon needs (libfuse.so.2 from setup's link).
pvlockfs_root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
export LD_LIBRARY_PATH="$pvlockfs_root/node_modules/.pvlockfs-lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

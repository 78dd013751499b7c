#!/bin/sh
# Conditions on a process named by a pid file, for pty_run.py --when (exit 0
# when true, 1 when not, or when the file or the process is not there yet):
#   proc_state.sh holds-terminal PIDFILE  the process's group is the
#                                         foreground group of its terminal
#   proc_state.sh job-holds-terminal PIDFILE  the foreground group of its
#                                         terminal is its own or its parent's
#   proc_state.sh parent-stopped PIDFILE  its parent is stopped (state T)
# From /proc/PID/stat: field 3 state, 4 ppid, 5 pgrp, 8 tpgid (the command
# names here have no blanks).
what=$1 pidfile=$2
pid=$(cat "$pidfile" 2>/dev/null) && [ -n "$pid" ] || exit 1
stat=$(cat "/proc/$pid/stat" 2>/dev/null) || exit 1
# shellcheck disable=SC2086 # split into fields on purpose
set -- $stat
case $what in
  holds-terminal) [ "$5" = "$8" ] ;;
  job-holds-terminal)
    [ "$5" = "$8" ] && exit 0
    tpgid=$8
    # shellcheck disable=SC2046
    set -- $(cat "/proc/$4/stat" 2>/dev/null) && [ "$5" = "$tpgid" ]
    ;;
  parent-stopped)
    # shellcheck disable=SC2046
    set -- $(cat "/proc/$4/stat" 2>/dev/null) && [ "$3" = T ]
    ;;
  *) echo "proc_state.sh: unknown condition $what" >&2; exit 2 ;;
esac

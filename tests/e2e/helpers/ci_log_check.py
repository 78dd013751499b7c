#!/usr/bin/env python3
"""Reads a CI job log as GitHub's runner or GitLab's log parser would, and
checks retryx's markers in it (tests/e2e/log_format_ci.sh).

    ci_log_check.py github LOG
    ci_log_check.py gitlab LOG [FROM UNTIL]

Lines "out N" and "err N" are attempt N's own output: each must be inside
attempt N's group or section, and nothing may follow it on its line (the
command may write it with no final newline: retryx's next line or marker
still starts a line of its own). Neither a group marker nor a line of
retryx's may start anywhere but at the start of a line (a --log-file's
text lines after their time). Prints one problem per line (none: the log is
well formed), then a summary the scenario compares:

  github: "groups N", then each annotation as "warning TITLE MESSAGE" or
          "error TITLE MESSAGE", TITLE and MESSAGE decoded as the runner
          decodes them and written as JSON strings;
  gitlab: "sections N", then each section's name, one a line.

GitHub: a workflow command is a line that, after leading white space,
starts with "::"; its name and properties end at the next "::" (the
runner's ActionCommand.TryParseV2); properties are split at ',' and '=';
the runner undoes the escapes %0D, %0A, %25 in the message, and also %3A and
%2C in properties, in that order, '%25' last.

GitLab: a section marker is "section_start:TIME:NAME[OPTIONS]\\r\\e[0K" or
"section_end:TIME:NAME\\r\\e[0K", NAME made of [a-zA-Z0-9_.-] (GitLab's
lib/gitlab/regex.rb); the header is the rest of the start marker's line.
FROM and UNTIL bound the marker's UNIX times.
"""
import json
import re
import sys

OUTPUT = re.compile(r"^(out|err) (\d+)$")
GLUED = re.compile(r"^(out|err) \d+(.+)$")
GROUP_MARKER = re.compile(r"::(end)?group::")
TEXT_LINE = re.compile(r"retryx(\[[A-Za-z0-9._-]+\])?: ")
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ")  # a --log-file's text lines
TITLE = re.compile(r"^retryx(\[[A-Za-z0-9._-]+\])?: attempt (\d+)(/\d+)?$")
GITLAB = re.compile(
    r"^\x1b\[0Ksection_(start|end):(\d+):([a-zA-Z0-9_.-]+)"
    r"(\[(?:\w+=\w+)(?:, ?(?:\w+=\w+))*\])?\r\x1b\[0K(.*)$"
)


def unescape(text, mappings):
    for escaped, raw in mappings:
        text = text.replace(escaped, raw)
    return text


def data(text):
    return unescape(text, [("%0D", "\r"), ("%0A", "\n"), ("%25", "%")])


def prop(text):
    return unescape(text, [("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")])


def workflow_command(line):
    """(name, properties, message) as the runner reads LINE, or None."""
    line = line.lstrip()
    if not line.startswith("::"):
        return None
    end = line.find("::", 2)
    if end < 0:
        return None
    info = line[2:end]
    name, _, props = info.partition(" ")
    properties = {}
    for item in props.strip().split(","):
        key, eq, value = item.partition("=")
        if item and eq and key and value:
            properties[key] = prop(value)
    return name, properties, data(line[end + 2:])


def check_line_starts(number, line, problems):
    """Output with no final newline must not have anything glued after it,
    and a line of retryx's must start its line, after the time in a
    --log-file (markers are checked apart)."""
    glued = GLUED.match(line)
    if glued:
        problems.append(f"line {number}: {glued.group(2)!r} glued to the end of the output {line!r}")
    text = TEXT_LINE.search(line)
    stamp = STAMP.match(line)
    if text and text.start() > (stamp.end() if stamp else 0):
        problems.append(f"line {number}: retryx's line does not start a line: {line!r}")


def check_github(lines, problems):
    group = None  # the open group's attempt number
    groups = 0
    summary = []
    for number, line in enumerate(lines, 1):
        command = workflow_command(line)
        output = OUTPUT.match(line)
        if output and group != int(output.group(2)):
            problems.append(f"line {number}: {line!r} outside attempt {output.group(2)}'s group")
        if command is None:
            check_line_starts(number, line, problems)
            if GROUP_MARKER.search(line):
                problems.append(f"line {number}: a group marker not at the start of a line: {line!r}")
            continue
        name, properties, message = command
        if name == "group":
            title = TITLE.match(message)
            if group is not None:
                problems.append(f"line {number}: a group inside the group of attempt {group}")
            if not title:
                problems.append(f"line {number}: group title {message!r}")
                continue
            groups += 1
            if int(title.group(2)) != groups:
                problems.append(f"line {number}: group of attempt {title.group(2)}, expected {groups}")
            group = int(title.group(2))
        elif name == "endgroup":
            if group is None:
                problems.append(f"line {number}: endgroup without a group")
            group = None
        elif name in ("warning", "error"):
            if group is not None:
                problems.append(f"line {number}: {name} inside the group of attempt {group}")
            summary.append(f"{name} {json.dumps(properties.get('title'))} {json.dumps(message)}")
        else:
            problems.append(f"line {number}: unexpected workflow command {name!r}")
    if group is not None:
        problems.append(f"the group of attempt {group} is never closed")
    return [f"groups {groups}"] + summary


def check_gitlab(lines, problems, since, until):
    open_name, open_attempt = None, None
    names = []
    for number, line in enumerate(lines, 1):
        output = OUTPUT.match(line)
        if output and open_attempt != int(output.group(2)):
            problems.append(f"line {number}: {line!r} outside attempt {output.group(2)}'s section")
        if "section_" not in line:
            check_line_starts(number, line, problems)
            continue
        marker = GITLAB.match(line)
        if not marker:
            problems.append(f"line {number}: {line!r}: not a section marker GitLab reads")
            continue
        kind, time, name, options, rest = marker.groups()
        if since is not None and not since <= int(time) <= until:
            problems.append(f"line {number}: time {time} outside [{since}, {until}]")
        if kind == "start":
            title = TITLE.match(rest)
            if open_name:
                problems.append(f"line {number}: a section inside {open_name}")
            if name in names:
                problems.append(f"line {number}: section name {name} used before")
            if options != "[collapsed=true]":
                problems.append(f"line {number}: options {options!r}")
            if not title:
                problems.append(f"line {number}: header {rest!r}")
            names.append(name)
            open_name, open_attempt = name, int(title.group(2)) if title else None
        else:
            if name != open_name:
                problems.append(f"line {number}: end of {name}, open: {open_name}")
            if options or rest:
                problems.append(f"line {number}: {options!r} {rest!r} after an end marker")
            open_name, open_attempt = None, None
    if open_name:
        problems.append(f"section {open_name} is never closed")
    return [f"sections {len(names)}"] + names


def main():
    kind, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8", newline="\n") as log:
        lines = log.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    problems = []
    if kind == "github":
        summary = check_github(lines, problems)
    else:
        bounds = [int(a) for a in sys.argv[3:5]] or [None, None]
        summary = check_gitlab(lines, problems, *bounds)
    for problem in problems:
        print("problem:", problem)
    for line in summary:
        print(line)


if __name__ == "__main__":
    main()

#!/usr/bin/env bash
# Scenario: the man page, the shell completions and the spec's option table
# name every option that 'retryx --help' lists, and the man page and the
# completions name no long option that --help does not list; the man page
# renders without warnings.
# shellcheck source=tests/e2e/lib.bash disable=SC1091
. "$(dirname "$0")/lib.bash"

src=$RETRYX_SOURCE_DIR
man=$src/man/retryx.1
bash_completion=$src/completions/retryx.bash
zsh_completion=$src/completions/_retryx
fish_completion=$src/completions/retryx.fish
spec=$src/../shared/spec/retryx.md

# Long options of other programs that the man page may name: curl(1)'s in
# SEE ALSO; and the mistyped option of its "did you mean" example.
foreign_long=(--retry --atempts)

# expect_file PATH: counts a check, fails when PATH is missing.
expect_file() {
  CHECKS=$((CHECKS + 1))
  [ -f "$1" ] || fail "missing file $1"
}

# in_list WORD LIST...: true when WORD is one of LIST.
in_list() {
  local word=$1 item
  shift
  for item in "$@"; do
    [ "$item" = "$word" ] && return 0
  done
  return 1
}

# --- What --help lists ------------------------------------------------------

help=$("$RETRYX" --help 2>&1 </dev/null)
# shellcheck disable=SC2034 # read by expect_status and fail (lib.bash)
status=$?
expect_status 0 "--help"
# fail() reports $status: not a stale one in the checks below.
unset status

# Option lines: "  -a, --attempts N ..." or "      --forever ...". The
# first long name is the one at the start of the line.
mapfile -t first_longs < <(printf '%s\n' "$help" |
  sed -nE 's/^  (-[[:alnum:]], |    )(--[[:alnum:]][[:alnum:]-]*).*/\2/p')
mapfile -t shorts < <(printf '%s\n' "$help" | sed -nE 's/^  (-[[:alnum:]]), --.*/\1/p')
# Aliases: "(also --max, --max-attempts)", which the help may wrap over lines.
mapfile -t aliases < <(printf '%s\n' "$help" | tr '\n' ' ' | tr -s ' ' |
  grep -oE '\(also [^)]*\)' | grep -oE -- '--[[:alnum:]][[:alnum:]-]*')
longs=("${first_longs[@]}" "${aliases[@]}")

CHECKS=$((CHECKS + 1))
[ "${#first_longs[@]}" -ge 10 ] || fail "too few options read from --help (${#first_longs[@]}): the format changed?"
for expected in --attempts --max --max-attempts --help --version; do
  CHECKS=$((CHECKS + 1))
  in_list "$expected" "${longs[@]}" || fail "$expected not read from --help (read: ${longs[*]})"
done
CHECKS=$((CHECKS + 1))
in_list -a "${shorts[@]}" || fail "-a not read from --help (read: ${shorts[*]})"

# --- Every option is documented --------------------------------------------

for f in "$man" "$bash_completion" "$zsh_completion" "$fish_completion"; do expect_file "$f"; done

# In roff a hyphen is written "\-": the man page as plain text.
man_text=$(sed 's/\\-/-/g' "$man" 2>/dev/null)

# The bash completion's option lists, the quoted strings assigned to
# value_opts and flag_opts (the rest of the file holds options of compgen
# and friends).
bash_lists=$(awk -v q="'" '
  !on && index($0, "_opts=" q) { on = 1; $0 = substr($0, index($0, "_opts=" q) + 7) }
  on { i = index($0, q); if (i) { print substr($0, 1, i - 1); on = 0 } else print }
' "$bash_completion" 2>/dev/null)
CHECKS=$((CHECKS + 1))
[ -n "$bash_lists" ] || fail "no value_opts='...' / flag_opts='...' option lists in $bash_completion"

# has_long TEXT OPTION: OPTION appears in TEXT as a whole word.
has_long() { printf '%s\n' "$1" | grep -qE -- "(^|[^[:alnum:]_-])$2([^[:alnum:]_-]|\$)"; }

for opt in "${longs[@]}"; do
  CHECKS=$((CHECKS + 1))
  has_long "$man_text" "$opt" || fail "man page lacks $opt"
  CHECKS=$((CHECKS + 1))
  has_long "$bash_lists" "$opt" || fail "bash completion lacks $opt"
  CHECKS=$((CHECKS + 1))
  has_long "$(cat "$zsh_completion" 2>/dev/null)" "$opt" || fail "zsh completion lacks $opt"
  CHECKS=$((CHECKS + 1))
  # fish names long options as "-l NAME" in "complete -c retryx" lines.
  grep -E '^complete -c retryx ' "$fish_completion" 2>/dev/null | grep -qE -- " -l ${opt#--}( |\$)" || fail "fish completion lacks $opt (-l ${opt#--})"
done

for opt in "${shorts[@]}"; do
  letter=${opt#-}
  CHECKS=$((CHECKS + 1))
  printf '%s\n' "$man_text" | grep -qE -- "(^|[^[:alnum:]-])-$letter([^[:alnum:]-]|\$)" ||
    fail "man page lacks $opt"
  CHECKS=$((CHECKS + 1))
  has_long "$bash_lists" "$opt" || fail "bash completion lacks $opt"
  CHECKS=$((CHECKS + 1))
  grep -qE -- "[{,( ]-${letter}[+=,} ]" "$zsh_completion" 2>/dev/null || fail "zsh completion lacks $opt"
  CHECKS=$((CHECKS + 1))
  grep -E '^complete -c retryx ' "$fish_completion" 2>/dev/null | grep -qE -- " -s $letter( |\$)" || fail "fish completion lacks $opt (-s $letter)"
done

# Every option but --help, --version and --dry-run has a RETRYX_<NAME> form,
# which the man page's ENVIRONMENT section lists.
for opt in "${first_longs[@]}"; do
  case $opt in --help | --version | --dry-run) continue ;; esac
  name=${opt#--}
  name=RETRYX_${name//-/_}
  name=${name^^}
  CHECKS=$((CHECKS + 1))
  has_long "$man_text" "$name" || fail "man page lacks $name (the environment form of $opt)"
done

# The spec's option table (it lives outside the repository: checked when it
# is there). Rows of the table under "### Options".
if [ -f "$spec" ]; then
  spec_table=$(sed -n '/^### Options/,/^#/p' "$spec" | grep '^|')
  CHECKS=$((CHECKS + 1))
  [ -n "$spec_table" ] || fail "no option table under '### Options' in $spec"
  for opt in "${longs[@]}"; do
    CHECKS=$((CHECKS + 1))
    has_long "$spec_table" "$opt" || fail "the spec's option table lacks $opt"
  done
else
  echo "note: $spec not found: the spec's option table is not checked"
fi

# --- Nothing more is documented -----------------------------------------------

# extra_longs NAME TEXT [ALLOWED...]: fails for each long option in TEXT that
# --help does not list.
extra_longs() {
  local what=$1 text=$2 opt
  shift 2
  CHECKS=$((CHECKS + 1))
  local extra=()
  while IFS= read -r opt; do
    in_list "$opt" "${longs[@]}" "$@" || extra+=("$opt")
  done < <(printf '%s\n' "$text" | grep -oE -- '--[[:alnum:]][[:alnum:]-]*' | sort -u)
  [ "${#extra[@]}" -eq 0 ] || fail "$what names options that --help lacks: ${extra[*]}"
}

extra_longs "man page" "$man_text" "${foreign_long[@]}"
extra_longs "bash completion" "$(cat "$bash_completion" 2>/dev/null)"
extra_longs "zsh completion" "$(cat "$zsh_completion" 2>/dev/null)"
fish_longs=$(cat "$fish_completion" 2>/dev/null
  grep -E '^complete -c retryx ' "$fish_completion" 2>/dev/null |
    grep -oE -- ' -l [[:alnum:]][[:alnum:]-]*' | sed 's/^ -l /--/')
extra_longs "fish completion" "$fish_longs"

# --- The man page renders cleanly -------------------------------------------

if command -v groff >/dev/null; then
  warnings=$(groff -man -ww -z "$man" 2>&1)
  expect_eq "$warnings" "" "groff -man -ww -z prints no warning"
else
  echo "note: groff not installed: the man page's rendering is not checked"
fi
if command -v mandoc >/dev/null; then
  warnings=$(mandoc -Tlint -Wall "$man" 2>&1)
  expect_eq "$warnings" "" "mandoc -Tlint reports nothing"
else
  echo "note: mandoc not installed: the man page is not linted"
fi

finish

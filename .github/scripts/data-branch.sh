#!/usr/bin/env bash
# Keep the history database on an orphan data branch instead of main's history.
#
#   data-branch.sh restore DB_FILE          fetch DB_FILE from the branch
#   data-branch.sh save [--force] DB_FILE   push DB_FILE to the branch as its only commit
#
# The branch (DATA_BRANCH, default monitor-data) holds one commit with one file, replaced
# by a force push each run: the database itself is the history, so git keeps no pile of
# old copies and main's history never sees it.
#
# Nothing is lost to a passing fault:
# - restore starts a fresh database only when the remote answered and has no such branch;
#   any other failure (network, auth: `git ls-remote` exit 128) exits non-zero, so the job
#   stops before anything is saved.
# - save reads the branch again and refuses (exit 1) to replace its history with one that
#   lacks any of its runs, except runs older than the retention age (DATA_RETENTION_DAYS,
#   else `retention_days` of DATA_CATALOG / resources.toml, else 90), which `monitor prune`
#   may remove. --force (or DATA_BRANCH_FORCE=1) replaces it anyway. A remote that cannot
#   be read is never overwritten.
set -euo pipefail

usage="usage: $0 restore DB_FILE | save [--force] DB_FILE"
action=${1:?$usage}
shift
force=${DATA_BRANCH_FORCE:-0}
if [[ "$action" == "save" && "${1:-}" == "--force" ]]; then
  force=1
  shift
fi
db=${1:?$usage}
branch=${DATA_BRANCH:-monitor-data}
remote=${DATA_REMOTE:-origin}
python=${PYTHON:-python3}
ref="refs/heads/$branch"

# Does the remote have the branch? Prints "yes" or "no"; any failure to ask is fatal.
branch_exists() {
  local code=0
  git ls-remote --exit-code "$remote" "$ref" >/dev/null || code=$?
  case "$code" in
    0) echo yes ;;
    2) echo no ;; # the remote answered: no such ref
    *)
      echo "cannot read $remote (git ls-remote exit $code): refusing to guess that $branch" \
        "does not exist" >&2
      return 1
      ;;
  esac
}

# Fetch the branch's copy of DB_FILE into $1 (written whole, then renamed into place).
# Not --depth=1: the branch is one commit anyway, and a shallow fetch of it makes the later
# push fail with "shallow update not allowed".
fetch_db() {
  local out=$1 tmp
  git fetch --quiet --no-tags "$remote" "$ref"
  tmp=$(mktemp "$out.XXXXXX.part")
  if ! git cat-file blob "FETCH_HEAD:$db" >"$tmp"; then
    rm -f -- "$tmp"
    echo "$branch has no $db" >&2
    return 1
  fi
  mv -f -- "$tmp" "$out"
}

# The history check, in Python's sqlite3 (no sqlite3 CLI needed on the runner):
#   history.py ready NEW     checkpoint NEW's write-ahead log into the file (the branch gets
#                            the file alone) and check its integrity
#   history.py keeps OLD NEW exit 0 when NEW keeps every run of OLD younger than the
#                            retention age; 1 with the reason on stderr otherwise
history() {
  "$python" - "$@" <<'PY'
import os, sqlite3, sys, tomllib
from datetime import datetime, timedelta, timezone


def connect(path, *, write=False):
    mode = "rw" if write else "ro"
    try:
        return sqlite3.connect(f"file:{path}?mode={mode}", uri=True)
    except sqlite3.Error as exc:
        sys.exit(f"{path}: cannot open ({exc})")


def runs(path):
    con = connect(path)
    try:
        rows = con.execute("SELECT id, started_at FROM run").fetchall()
    except sqlite3.DatabaseError as exc:
        sys.exit(f"{path}: not a monitor history database ({exc})")
    finally:
        con.close()
    return {(i, datetime.fromisoformat(str(s)).replace(tzinfo=None)) for i, s in rows}


def retention_days():
    if os.environ.get("DATA_RETENTION_DAYS"):
        return int(os.environ["DATA_RETENTION_DAYS"])
    catalog = os.environ.get("DATA_CATALOG", "resources.toml")
    try:
        with open(catalog, "rb") as f:
            return int(tomllib.load(f).get("settings", {}).get("retention_days", 90))
    except FileNotFoundError:
        return 90


command, *paths = sys.argv[1:]
if command == "ready":
    con = connect(paths[0], write=True)
    try:
        busy, _, _ = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        verdict = con.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        sys.exit(f"{paths[0]}: not a valid database ({exc})")
    finally:
        con.close()
    if busy:
        sys.exit(f"{paths[0]}: still in use by another writer; cannot save it whole")
    if verdict != "ok":
        sys.exit(f"{paths[0]}: integrity check failed: {verdict}")
    print(f"{len(runs(paths[0]))} runs")
elif command == "keeps":
    old, new = runs(paths[0]), runs(paths[1])
    cutoff = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=retention_days())
    lost = sorted(key for key in old - new if key[1] >= cutoff)
    if lost:
        newest = max(lost, key=lambda k: k[1])
        sys.exit(
            f"the new database has {len(new)} runs and lacks {len(lost)} of the {len(old)} "
            f"runs on the branch younger than the retention age (newest lost: run "
            f"{newest[0]} of {newest[1]:%Y-%m-%d %H:%M})"
        )
PY
}

case "$action" in
  restore)
    exists=$(branch_exists)
    if [[ "$exists" == yes ]]; then
      mkdir -p "$(dirname "$db")"
      fetch_db "$db"
      echo "restored $db from $branch ($(wc -c <"$db") bytes)"
    else
      echo "no $branch branch on $remote yet: starting with a fresh database"
    fi
    ;;
  save)
    if [[ ! -s "$db" ]]; then
      echo "no database at $db: nothing to save" >&2
      exit 1
    fi
    runs=$(history ready "$db")
    exists=$(branch_exists)
    # The push below replaces only what was read here: a branch that moved meanwhile, or
    # appeared, makes it fail instead of being overwritten unseen.
    lease="$ref:"
    if [[ "$exists" == yes ]]; then
      old=$(mktemp "${TMPDIR:-/tmp}/monitor-data.XXXXXX")
      trap 'rm -f -- "$old"' EXIT
      fetch_db "$old"
      lease="$ref:$(git rev-parse FETCH_HEAD)"
      if [[ "$force" != 1 ]] && ! history keeps "$old" "$db"; then
        echo "refusing to replace the history on $branch; rerun with --force" \
          "(DATA_BRANCH_FORCE=1) if that is what you want" >&2
        exit 1
      fi
    fi
    blob=$(git hash-object -w -- "$db")
    # Build the tree for the file's path, innermost folder first.
    entry="100644 blob $blob"$'\t'"$(basename "$db")"
    tree=$(printf '%s\n' "$entry" | git mktree)
    dir=$(dirname "$db")
    while [[ "$dir" != "." && "$dir" != "/" ]]; do
      tree=$(printf '040000 tree %s\t%s\n' "$tree" "$(basename "$dir")" | git mktree)
      dir=$(dirname "$dir")
    done
    commit=$(git -c "user.name=github-actions[bot]" \
      -c "user.email=41898282+github-actions[bot]@users.noreply.github.com" \
      commit-tree "$tree" -m "monitor history as of $(date -u +%Y-%m-%dT%H:%MZ)")
    git push --quiet "--force-with-lease=$lease" "$remote" "$commit:$ref"
    echo "saved $db to $branch ($runs)"
    ;;
  *)
    echo "unknown action: $action" >&2
    exit 2
    ;;
esac

#!/usr/bin/env bash
# Keep the history database on an orphan data branch instead of main's history.
#
#   data-branch.sh restore DB_FILE   fetch DB_FILE from the branch, if the branch exists
#   data-branch.sh save DB_FILE      push DB_FILE to the branch as its only commit
#
# The branch (DATA_BRANCH, default monitor-data) holds one commit with one file, replaced
# by a force push each run: the database itself is the history, so git keeps no pile of
# old copies and main's history never sees it.
set -euo pipefail

action=${1:?usage: $0 restore|save DB_FILE}
db=${2:?usage: $0 restore|save DB_FILE}
branch=${DATA_BRANCH:-monitor-data}
remote=${DATA_REMOTE:-origin}

case "$action" in
  restore)
    if git ls-remote --exit-code --heads "$remote" "$branch" >/dev/null 2>&1; then
      git fetch --quiet --depth=1 "$remote" "refs/heads/$branch"
      mkdir -p "$(dirname "$db")"
      git cat-file blob "FETCH_HEAD:$db" >"$db"
      echo "restored $db from $branch ($(wc -c <"$db") bytes)"
    else
      echo "no $branch branch yet: starting with a fresh database"
    fi
    ;;
  save)
    if [[ ! -s "$db" ]]; then
      echo "no database at $db: nothing to save" >&2
      exit 1
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
    git push --quiet --force "$remote" "$commit:refs/heads/$branch"
    echo "saved $db to $branch"
    ;;
  *)
    echo "unknown action: $action" >&2
    exit 2
    ;;
esac

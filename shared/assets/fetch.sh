#!/usr/bin/env bash
# fetch.sh LOCKFILE CACHEDIR
#
# Fetches the npm packages pinned in LOCKFILE into CACHEDIR, checking each
# tarball against its pinned sha512 integrity and extracting only the listed
# paths. Lock lines look like
#
#   name version integrity path...
#
# (see npm.lock). Package NAME@VERSION ends up in CACHEDIR/NAME@VERSION/, with
# the tarball's package/ prefix stripped; a scoped name keeps its scope as a
# folder (CACHEDIR/@scope/pkg@1.2.3/). A package whose folder holds .ok naming
# the same paths, in the same order, is skipped without touching the network,
# so once everything is cached the script works offline; a lock line that
# names other paths extracts the package again. Tarballs are kept in
# CACHEDIR/tarballs/ and reused.
#
# Exits non-zero, with a message on stderr, on the first failure.
set -eu

prog=fetch.sh

die() {
	echo "$prog: error: $*" >&2
	exit 1
}

say() {
	echo "$prog: $*"
}

if [ "$#" -ne 2 ]; then
	echo "usage: $prog LOCKFILE CACHEDIR" >&2
	exit 2
fi
lock=$1
cache=$2

[ -f "$lock" ] || die "lock file $lock not found"

# need TOOL... fails unless every TOOL is installed. Checked lazily, so that a
# fully cached run needs none of them.
need() {
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 || die "$tool is needed but not installed"
	done
}

# A relative CACHEDIR is taken from the current directory; make sure it exists.
mkdir -p "$cache/tarballs" || die "cannot create $cache/tarballs"

# sha512_of FILE prints FILE's integrity in npm's format: sha512-<base64>.
sha512_of() {
	digest=$(openssl dgst -sha512 -binary <"$1" | base64 | tr -d '\n\r ') ||
		die "cannot hash $1"
	printf 'sha512-%s' "$digest"
}

set -f # the path fields are literal, never glob patterns
lineno=0
fetched=0
cached=0
# The lock is read on fd 3 so that npm and tar cannot swallow it from stdin.
while IFS= read -r line <&3 || [ -n "$line" ]; do
	lineno=$((lineno + 1))
	line=$(printf '%s' "$line" | tr -d '\r')
	# shellcheck disable=SC2086 # splitting the line into fields is the point
	set -- $line
	if [ "$#" -eq 0 ]; then
		continue
	fi
	case $1 in
	\#*) continue ;;
	esac
	where="$lock:$lineno"
	[ "$#" -ge 4 ] || die "$where: want 'name version integrity path...', got: $line"
	name=$1
	version=$2
	integrity=$3
	shift 3

	case $name in
	*..* | /* | */ | *//*) die "$where: bad package name $name" ;;
	esac
	case $version in
	*/* | *..* | '') die "$where: bad version $version" ;;
	esac
	case $integrity in
	sha512-?*) ;;
	*) die "$where: integrity must be sha512-<base64> (npm view $name@$version dist.integrity), got $integrity" ;;
	esac
	for p in "$@"; do
		case /$p/ in
		//* | */../* | */./*) die "$where: bad path $p (want a relative path inside package/)" ;;
		esac
	done

	pkg="$name@$version"
	dest="$cache/$pkg"
	# .ok holds the paths extracted: a lock line that names other paths
	# extracts the package again.
	if [ -f "$dest/.ok" ] && [ "$(cat "$dest/.ok")" = "$*" ]; then
		cached=$((cached + 1))
		continue
	fi

	# npm pack names @scope/pkg@1.2.3 scope-pkg-1.2.3.tgz.
	need openssl base64 tar
	tgzname=$(printf '%s' "${name#@}" | tr / -)-$version.tgz
	tgz="$cache/tarballs/$tgzname"
	if [ -f "$tgz" ]; then
		say "$pkg: using $tgz"
	else
		say "$pkg: downloading with npm pack"
		need npm
		npm pack "$pkg" --pack-destination "$cache/tarballs" --loglevel=error </dev/null >/dev/null ||
			die "$pkg: npm pack failed (offline? wrong name or version in $where?)"
		[ -f "$tgz" ] || die "$pkg: npm pack did not write $tgz"
	fi

	got=$(sha512_of "$tgz")
	if [ "$got" != "$integrity" ]; then
		rm -f "$tgz"
		die "$pkg: integrity mismatch, tarball deleted
  want $integrity (from $where)
  got  $got"
	fi

	# Extract into a scratch folder next to the destination, then move it in
	# place, so that an interrupted run never leaves a half-filled folder.
	tmp="$dest.tmp.$$"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	members=""
	for p in "$@"; do
		members="$members package/${p%/}"
	done
	# shellcheck disable=SC2086 # members are separate words; globbing is off
	if ! tar -xzf "$tgz" -C "$tmp" --no-same-owner $members </dev/null; then
		rm -rf "$tmp"
		die "$pkg: cannot extract$members from $tgz (is every path in $where in the package?)"
	fi
	rm -rf "$dest"
	mv "$tmp/package" "$dest"
	rm -rf "$tmp"
	printf '%s' "$*" >"$dest/.ok"
	fetched=$((fetched + 1))
	say "$pkg: extracted $* into $dest"
done 3<"$lock"

say "done: $fetched fetched, $cached already cached, in $cache"

#!/bin/sh
# Downloads a hermes-fsck release binary and installs it only if its SHA-256
# is the one given (take it from the release's SHA256SUMS and pin it):
#
#   fetch-hermes-fsck.sh URL SHA256 DEST
#
# Used by the Dockerfile beside it; nothing is left at DEST on a mismatch.
set -eu

if [ "$#" -ne 3 ]; then
  echo "usage: fetch-hermes-fsck.sh URL SHA256 DEST" >&2
  exit 2
fi
url=$1
sum=$2
dest=$3
case "$sum" in
  *[!0-9a-f]* | "")
    echo "fetch-hermes-fsck: '$sum' is not a SHA-256 in hex; copy the line for your binary from the release's SHA256SUMS" >&2
    exit 1
    ;;
esac
if [ "${#sum}" -ne 64 ]; then
  echo "fetch-hermes-fsck: '$sum' is not 64 hex digits; copy the line for your binary from the release's SHA256SUMS" >&2
  exit 1
fi

part="$dest.part"
rm -f "$part"
curl --fail --silent --show-error --location --retry 3 --output "$part" "$url"
if ! echo "$sum  $part" | sha256sum -c - >/dev/null 2>&1; then
  got=$(sha256sum "$part" | cut -d' ' -f1)
  rm -f "$part"
  echo "fetch-hermes-fsck: $url has SHA-256 $got, not $sum: refusing to install it; check the version, the target and SHA256SUMS" >&2
  exit 1
fi
chmod 0755 "$part"
mv -f "$part" "$dest"
echo "fetch-hermes-fsck: installed $dest (SHA-256 $sum)" >&2

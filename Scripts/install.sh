#!/usr/bin/env bash
# Builds tokengap in release mode and installs it with its shell completions.
#   Scripts/install.sh [PREFIX]        (default: $PREFIX, else ~/.local)
# Installs PREFIX/bin/tokengap and the bash, zsh and fish completions under
# PREFIX/share. Nothing else is touched; remove those four files to uninstall.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:-${PREFIX:-$HOME/.local}}
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
  export PATH=/opt/swift/usr/bin:$PATH
fi
# On Linux the Swift runtime is linked into the binary: it runs on a machine
# with no Swift toolchain (copy it across a fleet), keeps working when the
# toolchain moves, and starts faster (no shared Swift libraries to load and
# relocate). Built in its own folder: the flag changes every object file.
build=(-c release --scratch-path .build-install)
[ "$(uname -s)" = Linux ] && build+=(--static-swift-stdlib)
swift build "${build[@]}"
bin=$(swift build "${build[@]}" --show-bin-path)/tokengap
install -d "$prefix/bin" "$prefix/share/bash-completion/completions" "$prefix/share/zsh/site-functions" \
  "$prefix/share/fish/vendor_completions.d"
install -m 755 "$bin" "$prefix/bin/tokengap"
"$bin" completions bash > "$prefix/share/bash-completion/completions/tokengap"
"$bin" completions zsh > "$prefix/share/zsh/site-functions/_tokengap"
"$bin" completions fish > "$prefix/share/fish/vendor_completions.d/tokengap.fish"
echo "installed $prefix/bin/tokengap ($("$prefix/bin/tokengap" --version)) and its completions"
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) echo "add it to your PATH: export PATH=\"$prefix/bin:\$PATH\"" ;;
esac

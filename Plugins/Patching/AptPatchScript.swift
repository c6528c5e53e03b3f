/// The shell script a tooling image's apt and dpkg run against the image mounted at `/target`:
/// apt reads the target's dpkg status (never the tooling's own), plans and downloads the
/// upgrades, and dpkg installs them into the target (`--root`, maintainer scripts chrooted
/// there). It reports on lines of its own (`SLIPWAY-…`), which ``PatchStep`` reads:
///
///     SLIPWAY-UPGRADE name installed-version new-version
///     SLIPWAY-CURRENT name version          (a report's package already at its newest)
///     SLIPWAY-NOTHING                       (nothing to upgrade: no layer, no push)
///     SLIPWAY-ERROR text                    (the step fails with the text)
enum AptPatchScript {
    /// Where the step's files (this script, `sources.list`, `packages`) are mounted.
    static let folder = "/.slipway-patch"
    static let target = "/target"

    static let text = #"""
        set -eu
        T=/target
        W=/.slipway-patch
        A=/tmp/slipway-apt
        if [ ! -f "$T/var/lib/dpkg/status" ] && [ -f "$T/lib/apk/db/installed" ]; then
          echo "SLIPWAY-ERROR it is an Alpine (apk) image; only Debian and Ubuntu (dpkg and apt) images are patched so far"; exit 3
        fi
        [ -f "$T/var/lib/dpkg/status" ] || { echo "SLIPWAY-ERROR the image has no dpkg status (/var/lib/dpkg/status): it is not a Debian or Ubuntu image"; exit 3; }
        command -v apt-get >/dev/null 2>&1 || { echo "SLIPWAY-ERROR the tooling image has no apt-get"; exit 3; }
        mkdir -p "$A/lists/partial" "$A/archives/partial" "$A/none"
        if [ -s "$W/sources.list" ]; then
          set -- -o "Dir::Etc::SourceList=$W/sources.list" -o "Dir::Etc::SourceParts=$A/none"
        else
          set -- -o "Dir::Etc::SourceList=$T/etc/apt/sources.list" -o "Dir::Etc::SourceParts=$T/etc/apt/sources.list.d"
        fi
        set -- "$@" -o "Dir::State::status=$T/var/lib/dpkg/status" -o "Dir::State::Lists=$A/lists" -o "Dir::Cache::Archives=$A/archives" \
          -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o Debug::NoLocking=true -o Acquire::Languages=none -o APT::Sandbox::User=root
        apt-get "$@" -qq update
        if [ -f "$W/packages" ]; then
          names=""
          while read -r name fixes; do
            [ -n "$name" ] || continue
            installed=$(dpkg-query --admindir="$T/var/lib/dpkg" -W -f '${Version}' "$name" 2>/dev/null || true)
            [ -n "$installed" ] || { echo "SLIPWAY-ABSENT $name"; continue; }
            candidate=$(apt-cache "$@" policy "$name" | sed -n 's/^ *Candidate: //p')
            if [ -z "$candidate" ] || [ "$candidate" = "(none)" ]; then echo "SLIPWAY-ERROR $name: the sources have no version of it"; exit 3; fi
            for fixed in $fixes; do
              if dpkg --compare-versions "$candidate" lt "$fixed"; then
                echo "SLIPWAY-ERROR $name: the sources offer $candidate, older than the report's fix $fixed"; exit 3
              fi
            done
            if dpkg --compare-versions "$installed" lt "$candidate"; then names="$names $name"; else echo "SLIPWAY-CURRENT $name $installed"; fi
          done < "$W/packages"
          [ -n "$names" ] || { echo SLIPWAY-NOTHING; exit 0; }
          plan=$(apt-get "$@" -s --only-upgrade install $names)
        else
          plan=$(apt-get "$@" -s upgrade)
        fi
        echo "$plan" | sed -n 's/^Inst \([^ ]*\) \[\([^]]*\)\] (\([^ ]*\) .*/\1 \2 \3/p' > "$A/upgrades"
        [ -s "$A/upgrades" ] || { echo SLIPWAY-NOTHING; exit 0; }
        sed 's/^/SLIPWAY-UPGRADE /' "$A/upgrades"
        [ -e "$T/bin/sh" ] || [ -L "$T/bin/sh" ] || { echo "SLIPWAY-ERROR the image has no /bin/sh for the packages' maintainer scripts (distroless images are not patched yet)"; exit 3; }
        # Maintainer scripts write to /dev/null; images carry no devices. Made for the install
        # only, and taken away again, so the layer has none.
        made_dev="" made_null=""
        if [ ! -d "$T/dev" ]; then mkdir "$T/dev"; made_dev=1; fi
        if [ ! -e "$T/dev/null" ]; then mknod -m 666 "$T/dev/null" c 1 3; made_null=1; fi
        # apt orders the installs (pre-dependencies first) and runs the tooling's dpkg on the
        # target's root: maintainer scripts run chrooted there.
        apt-get "$@" -q -y -o "Dpkg::Options::=--root=$T" -o Dpkg::Options::=--force-confold -o Dpkg::Options::=--force-unsafe-io \
          -o DPkg::Pre-Invoke::= -o DPkg::Post-Invoke::= -o DPkg::Pre-Install-Pkgs::= --no-install-recommends --only-upgrade \
          install $(awk '{ print $1 "=" $3 }' "$A/upgrades")
        [ -z "$made_null" ] || rm -f "$T/dev/null"
        [ -z "$made_dev" ] || rmdir "$T/dev"
        echo SLIPWAY-DONE
        """#
}

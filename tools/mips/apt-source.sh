# Sourced by tools/mips/run-tier: the Debian mirror and HTTP proxy this machine's own apt uses, so
# the tier builds its root from wherever the host installs its packages (a local mirror, a
# snapshot, a proxy) with no address written into the checkout. apt reads its configuration
# itself (sources.list, sources.list.d/*.list and deb822 *.sources, Enabled: no, $APT_CONFIG):
# nothing here parses those formats.

# apt_mirror SUITE: the archive URI (no trailing slash) of the host's "deb" source for SUITE;
# failing that, of its first "deb" source for a plain suite (no -security/-updates/-backports,
# whose archives are laid out for those suites only). Prints nothing and returns 1 when apt is
# missing or has no such source.
apt_mirror() {
    local suite=$1 listing
    command -v apt-get >/dev/null 2>&1 || return 1
    # shellcheck disable=SC2016  # $(FIELD) are apt's placeholders, not the shell's
    listing=$(apt-get indextargets --no-release-info \
        --format '$(TARGET_OF) $(RELEASE) $(REPO_URI)' 2>/dev/null) || return 1
    printf '%s\n' "$listing" | awk -v suite="$suite" '
        $1 != "deb" || $3 !~ /^(https?|ftp|file):/ { next }
        $2 == suite && exact == "" { exact = $3 }
        $2 !~ /[-\/]/ && plain == "" { plain = $3 }
        END {
            uri = exact != "" ? exact : plain
            if (uri == "") exit 1
            sub(/\/+$/, "", uri)
            print uri
        }'
}

# apt_http_proxy: apt's Acquire::http::Proxy when it names one (not DIRECT), else nothing.
apt_http_proxy() {
    local proxy=
    command -v apt-config >/dev/null 2>&1 || return 0
    eval "$(apt-config shell proxy Acquire::http::Proxy 2>/dev/null)"
    case $proxy in
        "" | DIRECT | direct) ;;
        *) printf '%s\n' "$proxy" ;;
    esac
}

#!/usr/bin/env bash
# Builds Compart's installable packages from the Maven build: a .deb (dpkg-deb) and an RPM (rpmbuild), both with the
# same tree:
#   /usr/lib/compart                 a jlink runtime image with every module linked in (the host needs no JDK), the
#                                    launchers of bin/ in its bin/ with their .launch, AOT caches in lib/aot/
#   /usr/bin/NAME                    a link to /usr/lib/compart/bin/NAME, for every command of bin/
#   /usr/lib/systemd/system          compartd.service, compart-policy.service
#   /usr/lib/tmpfiles.d, sysusers.d  the directories and the group qubes
#   /etc/compart/compart.conf        the services' options (a configuration file: kept on upgrade)
#   /etc/qubes/policy.d              the default qrexec policy (a configuration file: kept on upgrade)
#   /usr/share/man/man1, bash-completion/completions, doc/compart
#
# Usage: dist.sh ROOT TARGET VERSION MAINTAINER
#   ROOT        the work tree (bin/ and packaging/src/dist)
#   TARGET      packaging/target: modules/, man/adoc/ and completion/ made by the build before; dist/ is made here
#   VERSION     the Maven version (0.1.0-SNAPSHOT becomes 0.1.0~snapshot, which sorts before 0.1.0)
#   MAINTAINER  "Name <address>" for the packages
# Needs: JAVA_HOME (JDK 25: jlink, jdeps, javac), asciidoctor, dpkg-deb, rpmbuild (Debian's rpm package), strip.
set -euo pipefail

root=$(cd "$1" && pwd)
target=$(cd "$2" && pwd)
maven_version=$3
maintainer=$4
src=$root/packaging/src/dist
dist=$target/dist
version=$(printf '%s' "$maven_version" | sed -E 's/-SNAPSHOT$/~snapshot/; s/-/~/g')
jdk=${JAVA_HOME:?dist.sh: set JAVA_HOME to a JDK 25}
started=$(date +%s%N)
step_started=$started

for tool in asciidoctor dpkg-deb rpmbuild strip zstd; do
    command -v "$tool" >/dev/null || {
        echo "dist.sh: $tool is missing: apt-get install asciidoctor rpm binutils zstd (see .ci/run)" >&2
        exit 1
    }
done

step() {  # step MESSAGE: what the last step did and how long it took
    local now; now=$(date +%s%N)
    printf 'dist: %-60s %6s ms\n' "$1" "$(( (now - step_started) / 1000000 ))"
    step_started=$now
}

rm -rf "$dist"
mkdir -p "$dist"
stage=$dist/stage
image=$stage/usr/lib/compart

# -- the runtime image ----------------------------------------------------------------------------------------------
# jlink takes explicit modules only. A library that ships none (H2: an Automatic-Module-Name only) gets one derived
# with jdeps; the JDK modules it needs only for parts we never run (its GUI console, scripting, compiler hooks) are
# made 'requires static' so that they stay out of the image.
jmods=$dist/jmods
mkdir -p "$jmods"
cp "$target"/modules/*.jar "$jmods"/
for jar in "$jmods"/*.jar; do
    if "$jdk/bin/jar" --describe-module --file "$jar" 2>/dev/null | grep -q 'No module descriptor found'; then
        info=$dist/module-info/$(basename "$jar" .jar)
        "$jdk/bin/jdeps" --ignore-missing-deps --multi-release 25 --generate-module-info "$info" "$jar" >/dev/null
        descriptor=$(find "$info" -name module-info.java | head -1)
        module=$(sed -nE 's/^module ([A-Za-z0-9_.]+) \{/\1/p' "$descriptor")
        sed -i -E 's/^( *requires )(transitive )?(java\.desktop|java\.compiler|java\.scripting|java\.instrument|jdk\.[a-z.]+);/\1static \3;/' \
            "$descriptor"
        mkdir -p "$info/classes"
        "$jdk/bin/javac" -nowarn --release 25 -d "$info/classes" --module-path "$jmods" \
            --patch-module "$module=$jar" "$descriptor"
        "$jdk/bin/jar" --update --file "$jar" -C "$info/classes" module-info.class
    fi
done
step "module descriptors for automatic modules"

roots=$(grep -l '/\.launch"' "$root"/bin/* | xargs grep -ohE 'compart\.[a-z]+/' | sort -u | tr -d / | paste -sd, -)
# Bouncy Castle's jar is signed, which jlink refuses unless told to drop the signature: the image links its classes,
# and we call its scrypt directly (no JCE provider registration, which is what a signature would be checked for).
"$jdk/bin/jlink" --module-path "$jmods" --add-modules "$roots,ch.qos.logback.classic" \
    --output "$image" --strip-debug --no-man-pages --no-header-files --ignore-signing-information
# the JDK's native files come with their symbols; an installed runtime needs none (strip before the AOT caches)
find "$image" -type f | while read -r file; do
    if [ "$(head -c 4 "$file" | od -An -c | tr -d ' ')" = '177ELF' ]; then strip --strip-unneeded "$file"; fi
done
step "jlink runtime image ($("$image/bin/java" --list-modules | wc -l) modules, $(du -sm "$image" | cut -f1) MiB)"

# -- launchers and their ahead-of-time caches -----------------------------------------------------------------------
commands=()
for launcher in "$root"/bin/*; do
    [ -f "$launcher" ] && grep -q '/\.launch"' "$launcher" || continue
    cp -p "$launcher" "$image/bin/"
    commands+=("$(basename "$launcher")")
done
install -m 0755 "$src/launch" "$image/bin/.launch"
bash "$root/packaging/src/build/aot-train.sh" "$image/bin" "$image/lib/aot" "$src/root/etc/qubes/policy.d" \
    | sed 's/^/  /'
step "AOT caches for the image"

# -- the rest of the tree -------------------------------------------------------------------------------------------
cp -a "$src/root/." "$stage/"
mkdir -p "$stage/usr/bin" "$stage/usr/share/man/man1" "$stage/usr/share/bash-completion/completions" \
         "$stage/usr/share/doc/compart"
for name in "${commands[@]}"; do
    ln -s "../lib/compart/bin/$name" "$stage/usr/bin/$name"
    # a completion is sourced, not run: no #! line
    sed '1{/^#!/d}' "$target/completion/$name" >"$stage/usr/share/bash-completion/completions/$name"
done
asciidoctor -b manpage -a manmanual="Compart Manual" -a mansource="Compart $version" \
    -D "$dist/man1" "$target"/man/adoc/*.adoc
for page in "$dist"/man1/*.1; do
    gzip -9n <"$page" >"$stage/usr/share/man/man1/$(basename "$page").gz"
done
install -m 0644 "$src/copyright" "$stage/usr/share/doc/compart/copyright"
{
    printf 'compart (%s) unstable; urgency=medium\n\n' "$version"
    printf '  * Built from the Compart work tree (%s).\n\n' \
        "$(git -C "$root" describe --always --dirty 2>/dev/null || echo 'not a git tree')"
    printf ' -- %s  %s\n' "$maintainer" "$(date -R)"
} | gzip -9n >"$stage/usr/share/doc/compart/changelog.gz"
# the modes the packages install: directories 0755, files 0644 unless executable
find "$stage" -type d -exec chmod 0755 {} +
find "$stage" -type f -perm /111 -exec chmod 0755 {} +
find "$stage" -type f ! -perm /111 -exec chmod 0644 {} +
step "staged tree ($(du -sm "$stage" | cut -f1) MiB, ${#commands[@]} commands, $(ls "$dist/man1" | wc -l) man pages)"

# -- .deb -----------------------------------------------------------------------------------------------------------
debroot=$dist/deb
cp -a "$stage" "$debroot"
mkdir -p "$debroot/DEBIAN"
mkdir -p "$debroot/usr/share/lintian/overrides"
install -m 0644 "$src/deb/lintian-overrides" "$debroot/usr/share/lintian/overrides/compart"
sed -e "s/@VERSION@/$version/" -e "s/@INSTALLED_SIZE@/$(du -sk --apparent-size "$debroot" | cut -f1)/" \
    -e "s|@MAINTAINER@|$maintainer|" "$src/deb/control" >"$debroot/DEBIAN/control"
install -m 0644 "$src/deb/conffiles" "$debroot/DEBIAN/conffiles"
for script in postinst prerm postrm; do install -m 0755 "$src/deb/$script" "$debroot/DEBIAN/$script"; done
(cd "$debroot" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | LC_ALL=C sort | xargs -d '\n' md5sum) \
    >"$debroot/DEBIAN/md5sums"
deb=$target/compart_${version}_amd64.deb
dpkg-deb --root-owner-group -Zxz -z1 --threads-max=2 --build "$debroot" "$deb" >/dev/null
rm -rf "$debroot"
step "$(basename "$deb") ($(( $(stat -c %s "$deb") / 1048576 )) MiB)"

# -- RPM ------------------------------------------------------------------------------------------------------------
rpmtop=$dist/rpmbuild
mkdir -p "$rpmtop"
rpmbuild -bb --quiet --define "_topdir $rpmtop" --define "stage $stage" --define "version $version" \
    --define "maintainer $maintainer" --define "changelog_date $(LC_ALL=C date +"%a %b %d %Y")" \
    --define "_binary_payload w9T2.zstdio" "$src/rpm/compart.spec"
rpm=$(find "$rpmtop/RPMS" -name '*.rpm' | head -1)
mv "$rpm" "$target/"
rm -rf "$rpmtop"
step "$(basename "$rpm") ($(( $(stat -c %s "$target/$(basename "$rpm")") / 1048576 )) MiB)"

echo "dist: done in $(( ($(date +%s%N) - started) / 1000000 )) ms: $deb and $target/$(basename "$rpm")"

#!/usr/bin/env bash
# Prepare the real-KVM lane: install host packages, fetch Debian's current amd64 kernel, extract its vmlinux
# and build the base initramfs (busybox + kvm_amd modules), cached in DIR so a rerun costs nothing.
# Usage: setup.sh [DIR]   (default build/realkvm)
set -euo pipefail

dir=${1:-build/realkvm}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
packages=(qemu-system-x86 busybox-static cpio xz-utils)
kvm_module=kvm-amd   # -cpu max under TCG exposes AMD SVM

log() { echo "realkvm-setup: $*" >&2; }
die() { log "error: $*"; exit 1; }

apt_updated=
apt_update() {
	[[ -n $apt_updated ]] && return
	log "apt-get update"
	apt-get update -qq || die "apt-get update failed"
	apt_updated=1
}

install_packages() {
	local missing=() p
	for p in "${packages[@]}"; do
		[[ $(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null) == ii* ]] || missing+=("$p")
	done
	[[ ${#missing[@]} -eq 0 ]] && return
	[[ $(id -u) -eq 0 ]] || die "missing packages ${missing[*]}: run as root or install them"
	apt_update
	log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		die "apt-get install ${missing[*]} failed"
}

# The versioned kernel package that Debian's linux-image-amd64 metapackage currently depends on.
kernel_package() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9].*-amd64$/ { print $2; exit }'
}

# Write the ELF vmlinux compressed inside a bzImage to $2, trying each compression magic at each offset like
# the kernel's scripts/extract-vmlinux; the result must be an ELF whose section headers fit in the file.
extract_vmlinux() {
	local image=$1 out=$2 tool offset
	local -A magics=([gzip]='\x1f\x8b\x08' [xz]='\xfd7zXZ\x00' [zstd]='\x28\xb5\x2f\xfd' [bzip2]='BZh'
		[lz4]='\x02\x21\x4c\x18')
	for tool in xz zstd gzip bzip2 lz4; do
		command -v "$tool" >/dev/null || continue
		while read -r offset; do
			# The decompressor complains about the data after the stream; the ELF check below decides.
			tail -c +$((offset + 1)) "$image" | "$tool" -dc >"$out" 2>/dev/null || true
			if elf_complete "$out"; then
				log "vmlinux: $tool stream at offset $offset"
				return 0
			fi
		done < <(LC_ALL=C grep -obUaP "${magics[$tool]}" "$image" | cut -d: -f1)
	done
	rm -f "$out"
	return 1
}

elf_complete() {
	local f=$1 shoff shentsize shnum
	[[ -s $f && $(head -c 4 "$f" | od -An -c | tr -d ' ') == '177ELF' ]] || return 1
	shoff=$(od -An -t u8 -j 40 -N 8 "$f" | tr -d ' ')
	shentsize=$(od -An -t u2 -j 58 -N 2 "$f" | tr -d ' ')
	shnum=$(od -An -t u2 -j 60 -N 2 "$f" | tr -d ' ')
	((shoff + shentsize * shnum <= $(stat -c %s "$f")))
}

# Base initramfs: static busybox and the kvm_amd modules (decompressed, so busybox insmod can load them)
# listed in load order in /lib/modules/load-order. /init and the test payload come later as a second archive.
build_base_cpio() {
	local kroot=$1 kver=$2 out=$3 root deps m
	root=$tmp/base
	mkdir -p "$root"/{bin,lib/modules}
	cp /bin/busybox "$root/bin/busybox"
	# Debian ships no modules.dep; busybox depmod generates it (and reads .ko.xz).
	busybox depmod -b "$kroot" "$kver" || die "depmod failed on $kroot"
	deps=$(awk -v mod="/$kvm_module.ko" -F': *' 'index($1, mod) { print $1 " " $2; exit }' \
		"$kroot/lib/modules/$kver/modules.dep")
	[[ -n $deps ]] || die "$kvm_module not found in modules.dep of $kver"
	# The module's line is "module: deps", each entry needing only the entries after it: load in reverse.
	for m in $(echo "$deps" | tr ' ' '\n' | grep . | tac); do
		local src=$kroot/lib/modules/$kver/$m base=${m##*/}
		case $base in
		*.ko) cp "$src" "$root/lib/modules/$base" ;;
		*.ko.xz) xz -dc "$src" >"$root/lib/modules/${base%.xz}" ;;
		*.ko.zst) zstd -qdc "$src" >"$root/lib/modules/${base%.zst}" ;;
		*.ko.gz) gzip -dc "$src" >"$root/lib/modules/${base%.gz}" ;;
		*) die "unknown module format: $m" ;;
		esac
		echo "${base%.ko*}.ko" >>"$root/lib/modules/load-order"
	done
	log "modules: $(tr '\n' ' ' <"$root/lib/modules/load-order")"
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$out.tmp"
	mv "$out.tmp" "$out"
}

# Check that the freshly built pieces boot and load kvm_amd; prefer vmlinux (PVH entry, about twice as fast
# under TCG as the bzImage's decompressor), fall back to the bzImage if it does not boot.
smoke_boot() {
	if [[ -f $dir/vmlinux ]]; then
		if "$here/run.sh" --dir "$dir" --timeout 60 --log "$dir/smoke.log" >/dev/null 2>&1; then
			log "smoke boot with vmlinux (PVH) passed"
			return
		fi
		log "vmlinux did not boot (see $dir/smoke.log); falling back to the bzImage"
		rm -f "$dir/vmlinux"
	fi
	"$here/run.sh" --dir "$dir" --timeout 60 --log "$dir/smoke.log" >/dev/null 2>&1 ||
		die "smoke boot failed; serial log: $dir/smoke.log"
	log "smoke boot with the bzImage passed"
}

# gdb for tests that drive a real gdb in the lane: Debian's gdb-minimal (no Python; the full gdb
# needs a Python runtime the lane does not have), unpacked into DIR/gdb-minimal, not installed
# (installing it would replace the host's /usr/bin/gdb).
unpack_gdb_minimal() {
	local deb
	download gdb-minimal || { apt_update && download gdb-minimal; } || die "apt-get download gdb-minimal failed"
	deb=$(echo "$tmp"/gdb-minimal_*.deb)
	[[ -f $deb ]] || die "apt-get download produced no gdb-minimal .deb"
	rm -rf "$dir/gdb-minimal"
	dpkg -x "$deb" "$dir/gdb-minimal"
	[[ -x $dir/gdb-minimal/usr/bin/gdb ]] || die "gdb-minimal has no usr/bin/gdb"
	rm -f "$deb"
}

# Download package $1 into $tmp. apt drops privileges to _apt unless told root may write there.
download() {
	(cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "$1")
}

tmp=
main() {
	local start=$SECONDS pkg kver deb
	install_packages
	# A rerun costs nothing: the cache stays until it is removed or this script changes.
	if [[ -f $dir/ready && $dir/ready -nt ${BASH_SOURCE[0]} ]]; then
		log "using $(cat "$dir/ready") cached in $dir"
		return
	fi
	mkdir -p "$dir"
	rm -rf "$dir/ready" "$dir/vmlinux" "$dir/vmlinuz" "$dir/base.cpio" "$dir/gdb-minimal"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	# Stale package lists can name a kernel the mirror no longer has: update them and resolve again.
	pkg=$(kernel_package)
	if [[ -z $pkg ]] || ! download "$pkg"; then
		apt_update
		pkg=$(kernel_package)
		[[ -n $pkg ]] || die "cannot resolve linux-image-amd64 to a kernel package (apt-cache depends)"
		download "$pkg" || die "apt-get download $pkg failed"
	fi
	kver=${pkg#linux-image-}
	log "building $dir for $pkg"
	deb=$(echo "$tmp"/"$pkg"_*.deb)
	[[ -f $deb ]] || die "apt-get download produced no $pkg .deb"
	dpkg -x "$deb" "$tmp/root"
	rm -f "$deb"
	cp "$tmp/root/boot/vmlinuz-$kver" "$dir/vmlinuz" || die "no /boot/vmlinuz-$kver in $pkg"
	extract_vmlinux "$dir/vmlinuz" "$dir/vmlinux" || log "could not extract vmlinux; will boot the bzImage"
	build_base_cpio "$tmp/root" "$kver" "$dir/base.cpio"
	unpack_gdb_minimal
	smoke_boot
	echo "$pkg" >"$dir/ready"
	log "ready in $((SECONDS - start)) s"
}

main

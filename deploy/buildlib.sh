# shellcheck shell=bash
# SPDX-License-Identifier: Apache-2.0
# Shell functions shared by deploy/quickstart.sh, tests/run-all.sh, tests/deps.sh and
# tests/bench/run.sh (bash; source it). They make a first setup on a fresh Debian 12
# machine work, and make any later run recover from one that failed or was interrupted:
# a half-installed package or a half-configured build directory never blocks the next run.

# apt_install_missing PACKAGE...: install those of the Debian packages that are not installed.
apt_install_missing() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing+=("$p")
	done
	((${#missing[@]})) || return 0
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# an apt run that was interrupted leaves dpkg asking for this first
	dpkg --configure -a || true
	# wait for another apt (unattended-upgrades on a fresh machine) instead of failing
	apt-get -o DPkg::Lock::Timeout=300 update -q || return
	apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends "${missing[@]}"
}

# build_dir_ok DIR: DIR holds a meson build directory whose setup completed.
build_dir_ok() {
	[[ -f $1/build.ninja && -f $1/meson-private/coredata.dat ]] &&
		meson introspect --buildoptions "$1" >/dev/null 2>&1
}

# build_dir_discard DIR: remove what a failed or interrupted `meson setup` left in DIR.
# Anything else that is not a build directory is left alone, with an error.
build_dir_discard() {
	local dir=$1
	[[ -e $dir ]] || return 0
	if [[ -d $dir && ( -d $dir/meson-private || -d $dir/meson-logs || -z $(ls -A "$dir") ) ]]; then
		echo "$dir: incomplete meson build directory (a setup failed or was interrupted): removing it"
		rm -rf --one-file-system "$dir"
		return
	fi
	echo "$dir exists but is not a meson build directory; move it away and run this again" >&2
	return 1
}

# meson_setup DIR [MESON OPTION...]: DIR is configured with these options afterwards (and
# dependencies detected again), whatever an earlier run left there.
meson_setup() {
	local dir=$1
	shift
	if build_dir_ok "$dir"; then
		meson setup --reconfigure "$dir" "$@" && return 0
		echo "$dir: reconfiguring failed, configuring it from scratch"
		meson setup --wipe "$dir" "$@" && return 0
	fi
	build_dir_discard "$dir" || return
	meson setup "$dir" "$@"
}

# build_dir_has_tests DIR: the configured DIR builds the test suites.
build_dir_has_tests() {
	meson introspect --targets "$1" 2>/dev/null | grep -q '"name": "test_api_server"'
}

# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# bpf interception with real containers (sourced by lib.sh): scenario_bpf RT, for runc, crun
# and LXC. The container is unprivileged (user namespace), has a cgroup namespace, and its
# unified cgroup is delegated to its root (chowned, as a runtime does when asked to), so that
# it can make child cgroups and move tasks; cgroup2 is mounted inside at /sys/fs/cgroup. The
# host plays the outer runtime's device filter: a MULTI program at the container's cgroup that
# denies /dev/full (on a cgroup v2 host, runc and crun attach exactly such a program).
# A host cgroup of the test is bind-mounted into the container at /hostcg.
#
# Steps (the issue's tests): 1 load, and EPERM with bpf.devices off; 2 a program denying
# c 1:3 on the container's own child cgroup, attached and as a link; 3 an allow-all program
# opens nothing the runtime denied; 4 nothing reaches the host cgroup; 5 the errnos; 6 a real
# runc inside the container runs a nested container whose config denies /dev/zero (copied
# in with its libraries); 7 LXC's proxy answers every call within its deadline; 8 hostile
# pointers, a swapped attach type, a million instructions, a flood while another container is
# served. tests/e2e/bpf_probe.c runs inside; on the host it plays the runtime.

BPF_KEYS='"security.syscalls.intercept.bpf":"true","security.syscalls.intercept.bpf.devices":"true"'
# what runc needs to run a container of its own inside ours
BPF_CAPS="CAP_SYS_ADMIN CAP_NET_ADMIN CAP_SYS_CHROOT CAP_SETUID CAP_SETGID CAP_CHOWN CAP_FOWNER \
CAP_DAC_OVERRIDE CAP_MKNOD CAP_SETPCAP CAP_SYS_PTRACE"

bpf_probe_build() {
	[ -x "$E2E_WORK/bin/bpf_probe" ] && return 0
	gcc -static -O2 -Wall -Wextra -Werror -I "$E2E_DIR/../integration" \
		-o "$E2E_WORK/bin/bpf_probe" "$E2E_DIR/bpf_probe.c" -lpthread
}

# The unified hierarchy: /sys/fs/cgroup/unified on a hybrid host, else /sys/fs/cgroup.
cg2_root() {
	if [ -d /sys/fs/cgroup/unified ]; then echo /sys/fs/cgroup/unified; else echo /sys/fs/cgroup; fi
}

# The host path of the unified cgroup of PID.
cg2_of_pid() { echo "$(cg2_root)$(awk -F: '$1 == "0" { print $3 }' "/proc/$1/cgroup")"; }

bpf_host() { "$E2E_WORK/bin/bpf_probe" "$@"; }
bpf_in() { local rt=$1 n=$2; shift 2; "${rt}_exec" "$n" /bin/bpf_probe "$@"; }

# expect_kv OUTPUT KEY=VALUE...: every key has that value in the key=value output.
expect_kv() {
	local out=$1 want
	shift
	for want in "$@"; do
		expect_eq "${want%%=*}" "$(kv "${want%%=*}" <<<"$out")" "${want#*=}" || { echo "$out"; return 1; }
	done
}

# Config before the start: capabilities, a cgroup namespace, the host cgroup at /hostcg.
bpf_prepare() {
	local rt=$1 name=$2 hostcg=$3 c
	c=$(cdir "$name")
	mkdir -p "$c"
	echo "$BPF_CAPS" >"$c/caps"
	if is_oci "$rt"; then
		printf '.linux.namespaces += [{type: "cgroup"}]\n| .mounts += [{destination: "/hostcg", type: "bind", source: "%s", options: ["rbind", "rw"]}]\n' \
			"$hostcg" >"$c/config.jq"
	else
		echo "lxc.mount.entry = $hostcg hostcg none bind,create=dir 0 0" \
			>>"$E2E_WORK/daemon-policy-$name.conf"
	fi
}

# The container's unified cgroup, delegated to its root; the runtime's filter denying /dev/full.
bpf_delegate() {
	local rt=$1 name=$2 cg f
	cg=$(cg2_of_pid "$("${rt}_pid" "$name")")
	for f in "$cg" "$cg/cgroup.procs" "$cg/cgroup.subtree_control" "$cg/cgroup.threads"; do
		chown "$E2E_UID_BASE:$E2E_UID_BASE" "$f" || return 1
	done
	echo "$cg" >"$(cdir "$name")/cgroup2"
	bpf_host runtime "$cg" deny 1 7 multi >/dev/null
}

bpf_start() {
	local rt=$1 name=$2 hostcg=$3 root
	fetch_daemon_policy "$rt" "$name" || return 1
	bpf_prepare "$rt" "$name" "$hostcg"
	start_with_daemon_policy "$rt" "$name" || return 1
	root=$(cdir "$name")/rootfs
	install -o "$E2E_UID_BASE" -g "$E2E_UID_BASE" "$E2E_WORK/bin/bpf_probe" "$root/bin/bpf_probe" &&
		bpf_delegate "$rt" "$name" &&
		"${rt}_exec" "$name" /bin/mount -t cgroup2 none /sys/fs/cgroup
}

# --- 1 ---

check_bpf_load() { expect_kv "$(bpf_in "$1" "$2" load)" load=ok cloexec=1 prog_type=15; }

set_devices() {
	api_expect_2xx PATCH "/1.0/containers/$1" \
		"{\"config\":{\"security.syscalls.intercept.bpf.devices\":\"$2\"}}"
}

# With bpf.devices off: a load is EPERM, and a program loaded before cannot be linked or
# attached anywhere (a CONTINUE would let the kernel do it, no capability needed).
check_bpf_devices_off() {
	local rt=$1 name=$2 hostcg=$3 out held root
	root=$(cdir "$name")/rootfs
	held=$E2E_WORK/held-$name
	rm -f "$root/tmp/bpf-go"
	bpf_in "$rt" "$name" hold /hostcg >"$held" 2>&1 &
	for _ in $(seq 100); do grep -q '^loaded=' "$held" && break; sleep 0.1; done
	set_devices "$name" false || { touch "$root/tmp/bpf-go"; wait; return 1; }
	out=$(bpf_in "$rt" "$name" load)
	touch "$root/tmp/bpf-go"
	wait
	set_devices "$name" true || return 1
	expect_kv "$out" load=EPERM || return 1
	expect_kv "$(cat "$held")" loaded=ok link=EPERM attach=EPERM || return 1
	expect_kv "$(bpf_host count "$hostcg")" programs=0
}

# --- 2, 3 ---

check_bpf_block() {
	local rt=$1 name=$2
	"${rt}_exec" "$name" /bin/mkdir -p /sys/fs/cgroup/t2 || return 1
	expect_kv "$(bpf_in "$rt" "$name" block /sys/fs/cgroup/t2 /dev/null deny)" \
		before=ok attach=ok attached=EPERM detach=ok detached=ok || return 1
	expect_kv "$(bpf_in "$rt" "$name" block /sys/fs/cgroup/t2 /dev/null deny link)" \
		before=ok attach=ok attached=EPERM detach=ok detached=ok
}

check_bpf_no_widening() {
	local rt=$1 name=$2
	"${rt}_exec" "$name" /bin/mkdir -p /sys/fs/cgroup/t3 || return 1
	expect_kv "$(bpf_in "$rt" "$name" block /sys/fs/cgroup/t3 /dev/full allow)" \
		before=EPERM attach=ok attached=EPERM || return 1
	# on its own cgroup a program runs after the runtime's: bpf_set_retval(0) would clear
	# the runtime's denial
	expect_kv "$(bpf_in "$rt" "$name" block /sys/fs/cgroup /dev/full overrule)" \
		load=EINVAL before=EPERM
}

# --- 4 ---

check_bpf_host_cgroup() {
	local rt=$1 name=$2 hostcg=$3
	expect_kv "$(bpf_in "$rt" "$name" reach /hostcg)" load=ok attach=EPERM link=EPERM query=EPERM ||
		return 1
	expect_kv "$(bpf_host count "$hostcg")" programs=0
}

# The i386 ABI (int 0x80) is trapped too: the policies name the compat architecture.
check_bpf_ia32() {
	local rt=$1 name=$2 hostcg=$3
	expect_kv "$(bpf_in "$rt" "$name" ia32 /hostcg)" load=ok ia32_link=EPERM ia32_attach=EPERM ||
		return 1
	expect_kv "$(bpf_host count "$hostcg")" programs=0
}

# --- 5 ---

check_bpf_errors() {
	local rt=$1 name=$2 out probe
	out=$(bpf_in "$rt" "$name" errors /sys/fs/cgroup) || { echo "$out"; return 1; }
	probe=$(kv probe_read_kernel <<<"$out")
	[ "$probe" = EINVAL ] || [ "$probe" = EACCES ] || { echo "probe_read_kernel=$probe"; return 1; }
	expect_kv "$out" socket_filter=EPERM log_names_helper=1 map_fd=EINVAL btf_fd=EINVAL \
		unknown_tail=E2BIG bad_insns=EFAULT replace_unheld=EBADF detach_unheld=EBADF \
		detach_unattached=ENOENT || return 1
	# the bad detaches left the runtime's program where it was
	expect_kv "$(bpf_host count "$(cat "$(cdir "$name")/cgroup2")")" programs=1
}

check_bpf_override() {
	local rt=$1 name=$2 cg out
	cg=$(cat "$(cdir "$name")/cgroup2")
	"${rt}_exec" "$name" /bin/mkdir -p /sys/fs/cgroup/t5/x || return 1
	bpf_host runtime "$cg/t5" allow 0 0 override >/dev/null || return 1
	out=$(bpf_in "$rt" "$name" reach /sys/fs/cgroup/t5/x)
	bpf_host clear "$cg/t5" >/dev/null
	expect_kv "$out" attach=EPERM link=EPERM query=ok
}

# --- 6: runc in the container ---

# runc and its libraries, and a nested bundle whose config denies /dev/zero: listed in
# linux.devices, it is made in the nested container but left out of runc's default allow list.
bpf_nested_prepare() {
	local name=$1 root lib nested
	root=$(cdir "$name")/rootfs
	nested=$root/nested
	[ -f "$nested/config.json" ] && return 0
	mkdir -p "$root/usr/sbin" "$nested/rootfs/bin" "$nested/rootfs/"{proc,sys,dev,tmp}
	cp "$(command -v runc)" "$root/usr/sbin/runc" || return 1
	for lib in $(ldd "$(command -v runc)" | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$lib")" && cp -L "$lib" "$root$lib" || return 1
	done
	cp /bin/busybox "$nested/rootfs/bin/"
	for a in sh dd; do ln -s busybox "$nested/rootfs/bin/$a"; done
	runc spec --bundle "$nested" || return 1
	jq '.process.terminal = false | .root.path = "rootfs" | .linux.cgroupsPath = "/nested"
		| .process.args = ["/bin/sh", "-c", "dd if=/dev/zero of=/dev/null bs=1 count=1 2>/dev/null && echo zero=read || echo zero=denied"]
		| .linux.devices = [{path: "/dev/zero", type: "c", major: 1, minor: 5, fileMode: 438, uid: 0, gid: 0}]' \
		"$nested/config.json" >"$nested/config.json.new" && mv "$nested/config.json.new" "$nested/config.json"
	find "$root/usr" "$root/nested" "$root/lib" "$root/lib64" -xdev -exec chown -h "$E2E_UID_BASE:$E2E_UID_BASE" {} + 2>/dev/null
	return 0
}

# run_nested RT NAME ID: the nested container's output, then runc's exit status and warnings.
run_nested() {
	"${1}_exec" "$2" /bin/sh -c "cd /nested && : >/tmp/in-$3 &&
		/usr/sbin/runc --root /tmp/rs-$3 run --no-new-keyring $3 </tmp/in-$3 >/tmp/out-$3 2>/tmp/err-$3;
		echo runc=\$?; cat /tmp/out-$3; grep -ciE 'level=(warn|error)' /tmp/err-$3 | sed 's/^/warnings=/'"
}

check_nested_runc() {
	local rt=$1 name=$2 out
	bpf_nested_prepare "$name" || return 1
	out=$(run_nested "$rt" "$name" nested-on)
	expect_kv "$out" runc=0 zero=denied
}

# Without bpf.devices every call is EPERM: runc 1.1 in a user namespace then skips its device
# filter without a word (runc PR #2793) and the nested container reads /dev/zero.
check_nested_runc_off() {
	local rt=$1 name=$2 out
	set_devices "$name" false || return 1
	out=$(run_nested "$rt" "$name" nested-off)
	set_devices "$name" true || return 1
	if [ "$(kv runc <<<"$out")" = 0 ] && [ "$(kv warnings <<<"$out")" = 0 ]; then
		expect_kv "$out" zero=read
	else
		diag "$rt: nested runc without bpf.devices: $(tr '\n' ' ' <<<"$out")" >&3
	fi
}

# --- 7, 8 ---

check_bpf_hostile() {
	local rt=$1 name=$2 hostcg=$3 out
	out=$(bpf_in "$rt" "$name" hostile /hostcg) || { echo "$out"; return 1; }
	diag "$rt: a million instructions: $(kv million <<<"$out") in $(kv million_s <<<"$out") s" >&3
	expect_kv "$out" attr_unmapped=EFAULT attr_cut=EFAULT swapped_attached=0 swapped_other=0 ||
		return 1
	awk -v s="$(kv million_s <<<"$out")" 'BEGIN { exit !(s < 30) }' || { echo "$out"; return 1; }
	expect_kv "$(bpf_host count "$hostcg")" programs=0
}

# A second container, served while the first floods the daemon with loads.
bpf_neighbour_start() {
	local rt=$1 other=$2
	api_expect_2xx POST /1.0/containers \
		"{\"name\":\"$other\",\"config\":{\"security.syscalls.intercept.sysinfo\":\"true\"}}" &&
		fetch_daemon_policy "$rt" "$other" && start_with_daemon_policy "$rt" "$other"
}

# How long the flood may take. Each load moves the loader into the caller's memory cgroup,
# which waits for an RCU grace period: on a loaded host that alone can take seconds, and the
# 400 loads of the flood then take minutes, far past E2E_CMD_TIMEOUT.
BPF_FLOOD_TIMEOUT=${E2E_BPF_FLOOD_TIMEOUT:-900}

# flood_accounted OUTPUT STATUS LATE: the flood printed its counts, and each of its 400 loads
# worked or got EAGAIN (the bound on loads in flight), or EPERM, which the daemon answers a LXC
# call past --lxc-deadline-ms: at most LATE of them (the deadline's answers meanwhile).
flood_accounted() {
	local out=$1 status=$2 late=$3 loaded eagain eperm
	loaded=$(kv loaded <<<"$out") eagain=$(kv eagain <<<"$out") eperm=$(kv eperm <<<"$out")
	if [ -z "$loaded" ] || [ -z "$eagain" ] || [ -z "$eperm" ]; then
		echo "the flood printed no counts (bpf_probe exit status $status, 124: timed out" \
			"after ${BPF_FLOOD_TIMEOUT}s); its output: '$out'"
		return 1
	fi
	expect_eq "flood: loads of another errno (the first: $(kv first_other <<<"$out"))" \
		"$(kv other <<<"$out")" 0 || return 1
	expect_eq "flood: loads accounted for" "$((loaded + eagain + eperm))" 400 || return 1
	[ "$loaded" -gt 0 ] || { echo "flood: not one load worked: $out"; return 1; }
	[ "$eperm" -le "$late" ] ||
		{ echo "flood: $eperm loads got EPERM, only $late calls were past the deadline"; return 1; }
}

check_bpf_flood() {
	local rt=$1 name=$2 other=$2-nb flood out rss flood_pid status late0 late
	bpf_neighbour_start "$rt" "$other" || return 1
	flood=$E2E_WORK/flood-$name
	late0=$(lxc_deadline_count)
	E2E_CMD_TIMEOUT=$BPF_FLOOD_TIMEOUT bpf_in "$rt" "$name" flood 4 100 >"$flood" 2>&1 &
	flood_pid=$!
	out=$(probe_in "$rt" "$other" loop-sysinfo 300) || { echo "$out"; wait "$flood_pid"; return 1; }
	wait "$flood_pid"
	status=$?
	late=$(($(lxc_deadline_count) - late0))
	check_gone "$rt" "$other" && api_expect_2xx DELETE "/1.0/containers/$other" || return 1
	rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$(cat "$E2E_WORK/daemon/pid")/status")
	diag "$rt: flood: $(tr '\n' ' ' <"$flood"); $late calls past the LXC deadline; neighbour" \
		"$(kv ns_per_call <<<"$out") ns per sysinfo; daemon RSS ${rss} KiB" >&3
	flood_accounted "$(cat "$flood")" "$status" "$late" || return 1
	[ "$rss" -lt 131072 ] || { echo "daemon RSS $rss KiB after the flood"; return 1; }
}

check_bpf_metrics() {
	local o v
	for o in emulated errno; do
		v=$(metric_value interceptd_syscalls_total "container=$1" syscall=bpf outcome=$o) || v=0
		[ "${v%.*}" -gt 0 ] || { echo "bpf outcome=$o: $v"; return 1; }
	done
}

scenario_bpf() {
	local rt=$1 name=e2e-$1-bpf-$$ hostcg s
	hostcg=$(cg2_root)/icd-e2e-host-$$
	bpf_probe_build || { tap_fail "$rt: bpf: bpf_probe builds"; return 0; }
	daemon_up "$rt: bpf: interceptd starts" || return 0
	mkdir -p "$hostcg"
	BLOCKED=""
	s="$rt: bpf:"
	step "$s registered with bpf and bpf.devices on" api_expect_2xx POST /1.0/containers \
		"{\"name\":\"$name\",\"config\":{$BPF_KEYS}}"
	step "$s starts unprivileged, unified cgroup delegated, cgroup2 mounted inside" \
		bpf_start "$rt" "$name" "$hostcg"
	soft_step "$s 1 load gives a close-on-exec fd of type cgroup_device" check_bpf_load "$rt" "$name"
	soft_step "$s 1 with bpf.devices=false a load gets EPERM, a program held attaches nowhere" \
		check_bpf_devices_off "$rt" "$name" "$hostcg"
	soft_step "$s 2 denying c 1:3 on its own child cgroup blocks /dev/null there (attach, link); detach restores it" \
		check_bpf_block "$rt" "$name"
	soft_step "$s 3 an allow-all or bpf_set_retval program does not open /dev/full, which its runtime denied" \
		check_bpf_no_widening "$rt" "$name"
	soft_step "$s 4 a host cgroup made visible: attach, link, query EPERM; the host sees no program" \
		check_bpf_host_cgroup "$rt" "$name" "$hostcg"
	soft_step "$s 4 the same through the i386 ABI (int 0x80): EPERM, the host sees no program" \
		check_bpf_ia32 "$rt" "$name" "$hostcg"
	soft_step "$s 5 other types, probe_read_kernel, map and BTF fds, unknown tail, unheld fds, bad detaches" \
		check_bpf_errors "$rt" "$name"
	soft_step "$s 5 an OVERRIDE program on the parent cgroup: ATTACH gets EPERM" \
		check_bpf_override "$rt" "$name"
	soft_step "$s 6 runc inside: the nested container denied /dev/zero cannot read it" \
		check_nested_runc "$rt" "$name"
	soft_step "$s 6 without bpf.devices the nested runc runs it with no device filter" \
		check_nested_runc_off "$rt" "$name"
	soft_step "$s 8 unmapped and cut attrs, a swapped attach type, a million instructions" \
		check_bpf_hostile "$rt" "$name" "$hostcg"
	soft_step "$s 8 a flood of loads is bounded; another container is served meanwhile" \
		check_bpf_flood "$rt" "$name"
	is_oci "$rt" || soft_step "$s 7 LXC's proxy exchange never failed: one reply of the right size for every call, in time" \
		check_lxc_proxy "$name"
	soft_step "$s metrics count bpf calls with their outcome" check_bpf_metrics "$name"
	BLOCKED=""
	step "$s container deleted and unregistered" delete_and_unregister "$rt" "$name"
	rmdir "$hostcg" 2>/dev/null
	if [ "$E2E_FAILED" -gt 0 ]; then
		daemon_log | grep -E 'bpf|rror' | tail -n 30 | sed 's/^/# /'
	fi
	daemon_stop
}

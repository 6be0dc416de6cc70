# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# The mount scenario (sourced by lib.sh; run by run_runtime for runc, crun and LXC):
# mount.allowed, mount.shift, mount.fuse and hugetlbfs through interceptd, in an
# unprivileged container (0 -> 100000) that is given, as block device nodes:
#   /dev/xok     an ext4 image on a loop device its device cgroup allows
#   /dev/xdenied an ext4 image on a loop device its device cgroup does not allow
#   /dev/xbusy   an ext4 image on a loop device mounted on the host
# and /dev/fuse. The images hold a file of uid 1000, a device node (c 1 3) and a
# setuid-root copy of mount_probe. The loop devices are ours: made here, detached by
# mount_cleanup (also from the EXIT trap); the host's own devices are never touched.

MOUNT_DIR=""
MOUNT_KEY='security.syscalls.intercept.'
declare -A MOUNT_LOOP=()

mount_build_probe() {
	gcc -static -O2 -Wall -Wextra -Werror -I "$E2E_DIR/../integration" \
		-o "$E2E_WORK/bin/mount_probe" "$E2E_DIR/mount_probe.c"
}

major_of() { printf '%d' "0x$(stat -c '%t' "$1")"; }
minor_of() { printf '%d' "0x$(stat -c '%T' "$1")"; }

# Loop devices and their nodes, once per run.
mount_setup() {
	local img loop
	MOUNT_DIR=$E2E_WORK/mount
	mkdir -p "$MOUNT_DIR/stage" "$MOUNT_DIR/dev" "$MOUNT_DIR/hostmnt" "$MOUNT_DIR/check" || return 1
	mount_build_probe || return 1
	(
		cd "$MOUNT_DIR/stage" &&
			touch u1000 && chown 1000:1000 u1000 &&
			mknod -m 666 null c 1 3 &&
			cp "$E2E_WORK/bin/mount_probe" suid && chown 0:0 suid && chmod 4755 suid
	) || return 1
	for img in ok denied busy; do
		truncate -s 16M "$MOUNT_DIR/$img.img" &&
			mkfs.ext4 -q -d "$MOUNT_DIR/stage" "$MOUNT_DIR/$img.img" || return 1
		loop=$(losetup -f --show "$MOUNT_DIR/$img.img") || return 1
		MOUNT_LOOP[$img]=$loop
		echo "$loop" >>"$MOUNT_DIR/loops"
		mknod -m 660 "$MOUNT_DIR/dev/$img" b "$(major_of "$loop")" "$(minor_of "$loop")" ||
			return 1
		chown "$E2E_UID_BASE:$E2E_UID_BASE" "$MOUNT_DIR/dev/$img"
	done
	mknod -m 666 "$MOUNT_DIR/dev/fuse" c 10 229 || return 1
	mount -o ro "${MOUNT_LOOP[busy]}" "$MOUNT_DIR/hostmnt"
}

# From the EXIT trap too: unmount what is ours on the host, detach our loop devices.
mount_cleanup() {
	local l
	[ -n "$MOUNT_DIR" ] && [ -d "$MOUNT_DIR" ] || return 0
	umount_under "$MOUNT_DIR"
	if [ -f "$MOUNT_DIR/loops" ]; then
		while read -r l; do losetup -d "$l" 2>/dev/null; done <"$MOUNT_DIR/loops"
		rm -f "$MOUNT_DIR/loops"
	fi
}


# ROOTFS_EXTRA hook of rootfs_build: mount_probe, fuse2fs with its libraries, a FUSE
# binary that never mounts and one that mounts a tmpfs, mount points.
mount_rootfs_extra() {
	local root=$1 f
	cp "$E2E_WORK/bin/mount_probe" "$root/bin/mount_probe"
	mkdir -p "$root/mnt/a" "$root/mnt/f" "$root/mnt/h"
	printf '#!/bin/sh\nexec sleep 30\n' >"$root/bin/slowfuse" && chmod 755 "$root/bin/slowfuse"
	# shellcheck disable=SC2016 # "$2" is the script's own argument: the target
	printf '#!/bin/sh\nexec mount -t tmpfs tmpfuse "$2"\n' >"$root/bin/tmpfuse" &&
		chmod 755 "$root/bin/tmpfuse"
	command -v fuse2fs >/dev/null || return 0
	for f in $(command -v fuse2fs) $(ldd "$(command -v fuse2fs)" | grep -o '/[^ ]*'); do
		mkdir -p "$root$(dirname "$f")" && cp -L "$f" "$root$f"
	done
}

# The devices for an OCI bundle: bind mounts of our nodes, device cgroup rules.
mount_oci_jq() {
	local n
	printf '.mounts += ['
	for n in ok denied busy; do
		printf '{"destination":"/dev/x%s","type":"bind","source":"%s","options":["bind"]},' \
			"$n" "$MOUNT_DIR/dev/$n"
	done
	printf '{"destination":"/dev/fuse","type":"bind","source":"%s","options":["bind"]}]\n' \
		"$MOUNT_DIR/dev/fuse"
	printf '| .linux.resources.devices += ['
	printf '{"allow":true,"type":"b","major":7,"minor":%s,"access":"rwm"},' \
		"$(minor_of "${MOUNT_LOOP[ok]}")" "$(minor_of "${MOUNT_LOOP[busy]}")"
	printf '{"allow":true,"type":"c","major":10,"minor":229,"access":"rwm"}]\n'
}

# The same for LXC, with a device cgroup that allows only what a container needs.
mount_lxc_lines() {
	local n d
	for n in ok denied busy; do
		echo "lxc.mount.entry = $MOUNT_DIR/dev/$n dev/x$n none bind,create=file 0 0"
	done
	echo "lxc.mount.entry = $MOUNT_DIR/dev/fuse dev/fuse none bind,create=file 0 0"
	echo "lxc.cgroup.devices.deny = a"
	for d in 'c *:* m' 'b *:* m' 'c 1:3 rwm' 'c 1:5 rwm' 'c 1:7 rwm' 'c 1:8 rwm' 'c 1:9 rwm' \
		'c 5:0 rwm' 'c 5:1 rwm' 'c 5:2 rwm' 'c 136:* rwm' 'c 10:229 rwm' \
		"b 7:$(minor_of "${MOUNT_LOOP[ok]}") rwm" "b 7:$(minor_of "${MOUNT_LOOP[busy]}") rwm"; do
		echo "lxc.cgroup.devices.allow = $d"
	done
}

mount_start() {
	local rt=$1 name=$2 c rc
	c=$(cdir "$name")
	mkdir -p "$c"
	echo "CAP_SYS_ADMIN CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_SETUID CAP_SETGID" >"$c/caps"
	fetch_daemon_policy "$rt" "$name" || return 1
	if is_oci "$rt"; then
		mount_oci_jq >"$c/config.jq"
	else
		mount_lxc_lines >>"$E2E_WORK/daemon-policy-$name.conf"
	fi
	ROOTFS_EXTRA=mount_rootfs_extra
	start_with_daemon_policy "$rt" "$name"
	rc=$?
	ROOTFS_EXTRA=""
	return $rc
}

# in RT NAME CMD...: run CMD in the container; mp RT NAME ARGS...: mount_probe's first line.
in_c() { local rt=$1 n=$2; shift 2; "${rt}_exec" "$n" "$@"; }
mp() { local rt=$1 n=$2; shift 2; in_c "$rt" "$n" /bin/mount_probe "$@" 2>&1 | head -n1; }
mp_expect() { local rt=$1 n=$2 want=$3; shift 3; expect_eq "mount_probe $*" "$(mp "$rt" "$n" "$@")" "$want"; }

mount_patch() { api_expect_2xx PATCH "/1.0/containers/$1" "{\"config\":{$2}}"; }

# expect_owner RT NAME PATH WANT: the owner (uid:gid) of PATH as the container sees it.
expect_owner() {
	expect_eq "owner of $3" "$(in_c "$1" "$2" /bin/stat -c %u:%g "$3")" "$4"
}

# The options of the container's mount at TARGET, from its /proc/mounts.
c_mount_line() { in_c "$1" "$2" /bin/cat /proc/mounts | awk -v t="$3" '$2 == t { print $3, $4 }'; }

check_boot_mounts() {
	local rt=$1 name=$2
	c_mount_line "$rt" "$name" /proc | grep -q '^proc ' || { echo "no /proc"; return 1; }
	in_c "$rt" "$name" /bin/sh -c 'mkdir -p /tmp/t && mount -t tmpfs tmpfs /tmp/t && umount /tmp/t'
}

check_ext4_mounted() {
	local rt=$1 name=$2 line
	in_c "$rt" "$name" /bin/mount -t ext4 /dev/xok /mnt/a || return 1
	line=$(c_mount_line "$rt" "$name" /mnt/a)
	case $line in ext4\ *nosuid*) ;; *) echo "mount: '$line'"; return 1;; esac
	case $line in *nodev*) ;; *) echo "mount: '$line'"; return 1;; esac
	expect_owner "$rt" "$name" /mnt/a/u1000 65534:65534
}

check_image_inert() {
	local rt=$1 name=$2
	mp_expect "$rt" "$name" EACCES open /mnt/a/null || return 1
	expect_eq "euid of the setuid binary run by uid 1000" \
		"$("${rt}_exec_as" 1000 "$name" /mnt/a/suid euid 2>&1 | head -n1)" 1000 || return 1
	in_c "$rt" "$name" /bin/umount /mnt/a
}

# A per-mount flag on a new superblock: MS_NOSYMFOLLOW (256) traps and is applied. Passed as a
# number: busybox mount does not know the option.
check_nosymfollow() {
	local rt=$1 name=$2 opts
	mp_expect "$rt" "$name" ok mount /dev/xok /mnt/a ext4 256 || return 1
	opts=$(in_c "$rt" "$name" /bin/cat /proc/self/mountinfo | awk '$5 == "/mnt/a" { print $6 }')
	in_c "$rt" "$name" /bin/umount /mnt/a || return 1
	case ,$opts, in
	*,nosymfollow,*) ;;
	*) echo "mountinfo options of /mnt/a: '$opts'"; return 1;;
	esac
}

check_shift_live() {
	local rt=$1 name=$2 owner
	mount_patch "$name" "\"${MOUNT_KEY}mount.shift\":\"true\"" || return 1
	in_c "$rt" "$name" /bin/mount -t ext4 /dev/xok /mnt/a || return 1
	expect_owner "$rt" "$name" /mnt/a 0:0 && expect_owner "$rt" "$name" /mnt/a/u1000 1000:1000 ||
		return 1
	in_c "$rt" "$name" /bin/touch /mnt/a/by-root && in_c "$rt" "$name" /bin/umount /mnt/a || return 1
	mount_patch "$name" "\"${MOUNT_KEY}mount.shift\":\"false\"" || return 1
	mount -o ro,noload "${MOUNT_LOOP[ok]}" "$MOUNT_DIR/check" || return 1
	owner=$(stat -c %u:%g "$MOUNT_DIR/check/by-root")
	umount "$MOUNT_DIR/check"
	expect_eq "owner on disk of a file made by the container's root" "$owner" 0:0
}

check_errnos() {
	local rt=$1 name=$2 long want
	long=$(printf 'v%.0s' $(seq 300))
	for want in "EINVAL mount /dev/xok /mnt/a ext4 0 bogus_option" \
		"EINVAL mount /dev/xok /mnt/a ext4 0 errors=$long" \
		"ENOENT mount /dev/nothing /mnt/a ext4" "ENOTBLK mount /bin/busybox /mnt/a ext4" \
		"ENOTDIR mount /dev/xok /bin/busybox ext4" "EFAULT mount @bad /mnt/a ext4" \
		"EFAULT mount /dev/xok /mnt/a ext4 0 @bad" "EPERM nocap mount /dev/xok /mnt/a ext4" \
		"EPERM mount /dev/xok /mnt/a xfs" "EPERM mount /dev/xdenied /mnt/a ext4" \
		"EBUSY mount /dev/xbusy /mnt/a ext4" "EINVAL mount /dev/xok /mnt/a ext4 0 @mib"; do
		# shellcheck disable=SC2086 # the words are the arguments
		mp_expect "$rt" "$name" $want || return 1
	done
	api_expect_2xx GET /1.0 >/dev/null
}

check_paths_inside() {
	local rt=$1 name=$2 out
	in_c "$rt" "$name" /bin/ln -sf "$MOUNT_DIR/dev/ok" /tmp/to-host || return 1
	mp_expect "$rt" "$name" ENOENT mount /tmp/to-host /mnt/a ext4 || return 1
	mp_expect "$rt" "$name" ENOENT mount ../../../../dev/sda /mnt/a ext4 || return 1
	in_c "$rt" "$name" /bin/ln -sf /proc/1/root /tmp/to-root || return 1
	out=$(mp "$rt" "$name" mount /dev/xok /tmp/to-root ext4)
	case $out in ELOOP|EACCES) ;; *) echo "target /proc/1/root: $out"; return 1;; esac
	# nothing of ours reached the host's mount table
	if grep -qE "^(${MOUNT_LOOP[ok]}|${MOUNT_LOOP[denied]}) " /proc/self/mounts; then
		echo "a loop device is mounted on the host"; return 1
	fi
}

check_not_new_superblocks() {
	local rt=$1 name=$2 before after
	before=$(metric_value interceptd_syscalls_total "container=$name" syscall=mount outcome=continued) || before=0
	in_c "$rt" "$name" /bin/mkdir -p /tmp/b1 /tmp/b2 /tmp/b3 || return 1
	mp_expect "$rt" "$name" ok mount /tmp/b1 /tmp/b2 @null 4096 || return 1        # bind
	mp_expect "$rt" "$name" ok mount none /tmp/b2 @null 4129 || return 1           # remount,bind,ro
	mp_expect "$rt" "$name" ok mount none /tmp/b2 @null 262144 || return 1         # private
	# a mount under a shared parent cannot move (LXC's root is shared): make it private
	mp_expect "$rt" "$name" ok mount none / @null 278528 || return 1               # rprivate
	mp_expect "$rt" "$name" ok mount /tmp/b2 /tmp/b3 @null 8192 || return 1        # move
	in_c "$rt" "$name" /bin/umount /tmp/b3 || return 1
	after=$(metric_value interceptd_syscalls_total "container=$name" syscall=mount outcome=continued) || after=0
	[ "${after%.*}" -gt "${before%.*}" ] || { echo "continued: $before -> $after"; return 1; }
}

check_hugetlbfs() {
	local rt=$1 name=$2
	mount_patch "$name" "\"${MOUNT_KEY}mount.allowed\":\"ext4,hugetlbfs\"" || return 1
	in_c "$rt" "$name" /bin/mount -t hugetlbfs none /mnt/h || return 1
	expect_owner "$rt" "$name" /mnt/h 0:0 || return 1
	in_c "$rt" "$name" /bin/umount /mnt/h || return 1
	in_c "$rt" "$name" /bin/mount -t hugetlbfs -o uid=1000,gid=1000 none /mnt/h || return 1
	expect_owner "$rt" "$name" /mnt/h 1000:1000 || return 1
	in_c "$rt" "$name" /bin/umount /mnt/h
}

check_live_removal_and_refusals() {
	local rt=$1 name=$2 t
	mount_patch "$name" "\"${MOUNT_KEY}mount.allowed\":\"xfs\"" || return 1
	mp_expect "$rt" "$name" EPERM mount /dev/xok /mnt/a ext4 || return 1
	for t in proc tmpfs nfs; do
		api PATCH "/1.0/containers/$name" "{\"config\":{\"${MOUNT_KEY}mount.allowed\":\"$t\"}}"
		expect_eq "PATCH mount.allowed=$t" "$API_STATUS" 400 || return 1
		grep -q "'$t' refused" <<<"$API_BODY" || { echo "$API_BODY"; return 1; }
	done
}

# The host pid of the container's fuse2fs: the one in the container's pid namespace.
fuse_pid_of() {
	local init=$1 p
	for p in $(pgrep -x fuse2fs); do
		grep -q '^State:	Z' "/proc/$p/status" 2>/dev/null && continue
		[ "$(readlink "/proc/$p/ns/pid")" = "$(readlink "/proc/$init/ns/pid")" ] && { echo "$p"; return 0; }
	done
	return 1
}

# Is every cgroup of PID the one of INIT or below it? (lxc-attach puts processes in .lxc)
in_cgroups_of() {
	local pid=$1 init=$2 line id path mine
	while IFS= read -r line; do
		id=${line%%:*} path=${line#*:*:}
		mine=$(awk -v id="$id" 'index($0, id ":") == 1 { sub(/^[^:]*:[^:]*:/, ""); print }' \
			"/proc/$pid/cgroup")
		case $mine in "$path" | "$path"/*) ;; *)
			echo "cgroup $id of fuse2fs: '$mine', the container's: '$path'"; return 1;;
		esac
	done <"/proc/$init/cgroup"
}

check_fuse_mount() {
	local rt=$1 name=$2 init pid ns
	rm -f "$MOUNT_DIR/fuse.pid" # the previous runtime's
	mount_patch "$name" "\"${MOUNT_KEY}mount.allowed\":null,\"${MOUNT_KEY}mount.fuse\":\"ext4=fuse2fs\"" ||
		return 1
	in_c "$rt" "$name" /bin/mount -t ext4 /dev/xok /mnt/f || return 1
	expect_eq "type" "$(c_mount_line "$rt" "$name" /mnt/f | cut -d' ' -f1)" fuse.ext4 || return 1
	expect_owner "$rt" "$name" /mnt/f 0:0 || return 1
	init=$("${rt}_pid" "$name")
	pid=$(fuse_pid_of "$init") || { echo "no fuse2fs in the container's pid namespace"; return 1; }
	for ns in mnt pid user net ipc uts cgroup; do
		expect_eq "$ns namespace of fuse2fs" "$(readlink "/proc/$pid/ns/$ns")" \
			"$(readlink "/proc/$init/ns/$ns")" || return 1
	done
	in_cgroups_of "$pid" "$init" || return 1
	grep -q '^NoNewPrivs:	1' "/proc/$pid/status" || { echo "fuse2fs without no_new_privs"; return 1; }
	echo "$pid" >"$MOUNT_DIR/fuse.pid"
}

check_fuse_failures() {
	local rt=$1 name=$2 init p
	mount_patch "$name" "\"${MOUNT_KEY}mount.fuse\":\"ext4=nosuchfuse\"" || return 1
	mp_expect "$rt" "$name" ENODEV mount /dev/xok /mnt/a ext4 || return 1
	mount_patch "$name" "\"${MOUNT_KEY}mount.fuse\":\"ext4=slowfuse\"" || return 1
	mp_expect "$rt" "$name" ETIMEDOUT mount /dev/xok /mnt/a ext4 || return 1
	init=$("${rt}_pid" "$name")
	for p in $(pgrep -f 'sleep 30'); do
		if [ "$(readlink "/proc/$p/ns/pid")" = "$(readlink "/proc/$init/ns/pid")" ]; then
			echo "the slow FUSE binary is still running: $p"; return 1
		fi
	done
}

# MS_NOSYMFOLLOW, which no FUSE binary can be told, is set on the binary's mount.
check_fuse_nosymfollow() {
	local rt=$1 name=$2 opts
	mount_patch "$name" "\"${MOUNT_KEY}mount.fuse\":\"ext4=tmpfuse\"" || return 1
	mp_expect "$rt" "$name" ok mount /dev/xok /mnt/a ext4 256 || return 1
	opts=$(in_c "$rt" "$name" /bin/cat /proc/self/mountinfo |
		awk '$5 == "/mnt/a" { print $6, $(NF - 2) }')
	in_c "$rt" "$name" /bin/umount /mnt/a || return 1
	case ,$opts in
	*,nosymfollow*\ tmpfs) ;;
	*) echo "mountinfo of /mnt/a: '$opts'"; return 1;;
	esac
}

check_mount_metrics() {
	local outcome v
	for outcome in emulated errno continued; do
		v=$(metric_value interceptd_syscalls_total "container=$1" syscall=mount outcome=$outcome) || v=0
		[ "${v%.*}" -gt 0 ] || { echo "mount outcome=$outcome: $v"; return 1; }
	done
	is_oci "$2" || check_lxc_proxy "$1"
}

# FUSE outlives an interceptd restart, and dies with the container.
check_fuse_lifetime() {
	local rt=$1 name=$2 pid
	pid=$(cat "$MOUNT_DIR/fuse.pid") || return 1
	kill -0 "$pid" 2>/dev/null || { echo "fuse2fs $pid is gone before the restart"; return 1; }
	daemon_stop
	daemon_start >/dev/null && daemon_api_ready >/dev/null || { echo "daemon did not restart"; return 1; }
	kill -0 "$pid" 2>/dev/null || { echo "fuse2fs $pid died with the daemon"; return 1; }
	in_c "$rt" "$name" /bin/ls /mnt/f >/dev/null || return 1
	"${rt}_stop" "$name" >/dev/null 2>&1
	for _ in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	echo "fuse2fs $pid outlived its container"
	return 1
}

# The container may be gone already (check_fuse_lifetime stops it).
mount_delete() {
	if "${1}_exists" "$2"; then
		check_gone "$1" "$2" || return 1
	fi
	api_expect_2xx DELETE "/1.0/containers/$2"
}

# fuse_step REASON DESC CMD...: soft_step DESC CMD..., or a skip for REASON when there is one.
fuse_step() {
	local reason=$1
	shift
	if [ -n "$reason" ]; then
		tap_skip "$1" "$reason"
	else
		soft_step "$@"
	fi
}

scenario_mount() {
	local rt=$1 name=e2e-$1-mnt-$$ fuse_reason=""
	BLOCKED=""
	if [ -z "$MOUNT_DIR" ] && ! mount_setup >"$E2E_WORK/mount-setup.err" 2>&1; then
		tap_fail "$rt: mount: loop devices with ext4 images" "$(cat "$E2E_WORK/mount-setup.err")"
		return 0
	fi
	command -v fuse2fs >/dev/null || fuse_reason="fuse2fs is not installed (tests/e2e/deps.sh)"
	daemon_up "$rt: mount: interceptd starts" || return 0
	step "$rt: mount: registered with mount=true, mount.allowed=ext4" api_expect_2xx POST \
		/1.0/containers "{\"name\":\"$name\",\"config\":{\"${MOUNT_KEY}mount\":\"true\",\"${MOUNT_KEY}mount.allowed\":\"ext4\"}}"
	step "$rt: mount: container starts with the loop devices and /dev/fuse" mount_start "$rt" "$name"
	soft_step "$rt: mount: the container's own mounts still work" check_boot_mounts "$rt" "$name"
	step "$rt: mount: mount -t ext4 works inside, nodev,nosuid, files of 65534" check_ext4_mounted "$rt" "$name"
	soft_step "$rt: mount: a device node and a setuid binary on the image do nothing; umount" check_image_inert "$rt" "$name"
	soft_step "$rt: mount: mount -o nosymfollow (MS_NOSYMFOLLOW) is emulated, nosymfollow in mountinfo" check_nosymfollow "$rt" "$name"
	soft_step "$rt: mount: mount.shift on live: 0:0, 1000, new files are root's on disk" check_shift_live "$rt" "$name"
	soft_step "$rt: mount: the kernel's errnos (EINVAL, ENOENT, ENOTBLK, ENOTDIR, EFAULT, EPERM, EBUSY; 1 MiB data)" check_errnos "$rt" "$name"
	soft_step "$rt: mount: sources and targets through symlinks stay inside" check_paths_inside "$rt" "$name"
	soft_step "$rt: mount: bind, remount, make-private and move are the kernel's" check_not_new_superblocks "$rt" "$name"
	soft_step "$rt: mount: hugetlbfs belongs to the caller, uid=/gid= translated" check_hugetlbfs "$rt" "$name"
	soft_step "$rt: mount: ext4 removed live is refused; proc, tmpfs, nfs get 400" check_live_removal_and_refusals "$rt" "$name"
	fuse_step "$fuse_reason" "$rt: mount: mount.fuse=ext4=fuse2fs: fuse.ext4 by fuse2fs in the container's namespaces and cgroups" check_fuse_mount "$rt" "$name"
	soft_step "$rt: mount: FUSE binary missing: ENODEV; never mounting: ETIMEDOUT, nothing left" check_fuse_failures "$rt" "$name"
	soft_step "$rt: mount: mount.fuse with MS_NOSYMFOLLOW: nosymfollow set on the binary's mount" check_fuse_nosymfollow "$rt" "$name"
	soft_step "$rt: mount: metrics count mounts by outcome" check_mount_metrics "$name" "$rt"
	fuse_step "$fuse_reason" "$rt: mount: fuse2fs outlives interceptd, dies with the container" check_fuse_lifetime "$rt" "$name"
	BLOCKED=""
	step "$rt: mount: container deleted and unregistered" mount_delete "$rt" "$name"
	[ "$E2E_FAILED" -gt 0 ] && daemon_log | tail -n 30 | sed 's/^/# /'
	daemon_stop
}

#!/usr/bin/env bash
# package.deb: the Debian package as an administrator meets it. Makes the .deb with
# CPack, reads it back with dpkg-deb, installs it, checks what postinst did and
# what the unit says, starts sluiced the way sluiced.service does (systemd is
# installed here but is not PID 1), administers it as root, as a plain user and as
# a member of sluice-admin, stops it, removes the package with the provider in the
# loader's preload list, and purges it. A trap purges the package and deletes the
# test users whatever happens. Needs root (exit 77: skipped otherwise).
#   usage: deb_package.sh BUILD_DIR
set -uo pipefail
build=${1:?usage: $0 BUILD_DIR}
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: installing a package needs root"
  exit 77
fi
for tool in cpack dpkg-deb dpkg systemd-analyze socat jq useradd runuser unshare man mandoc; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed"; exit 1; }
done

unit=/lib/systemd/system/sluiced.service
conf=/etc/sluice/sluiced.conf
max_exposure=2.0  # see the check below
work=$(mktemp -d "${TMPDIR:-/tmp}/sluice-deb.XXXXXX")
chmod 755 "$work"
daemon_pid=""
plain_user=sluice-deb-plain-$$
admin_user=sluice-deb-admin-$$
group_existed=$(getent group sluice-admin >/dev/null && echo yes || echo no)

cleanup() {
  [[ -n $daemon_pid ]] && kill -9 "$daemon_pid" 2>/dev/null
  [[ -n ${notify_pid:-} ]] && kill "$notify_pid" 2>/dev/null
  if dpkg-query -W -f='${db:Status-Status}' sluice 2>/dev/null | grep -qv '^not-installed$'; then
    dpkg --purge sluice >/dev/null 2>&1 || echo "cleanup: dpkg --purge sluice failed"
  fi
  userdel "$plain_user" 2>/dev/null
  userdel "$admin_user" 2>/dev/null
  # postinst created the group for this test; purge keeps it on purpose.
  [[ $group_existed == no ]] && groupdel sluice-admin 2>/dev/null
  rm -rf /run/sluice "$work"
}
trap cleanup EXIT

source "$(dirname "$0")/../support/checks.sh"
# wait_for SECONDS COMMAND...: polls every 0.1 s until the command succeeds.
wait_for() {
  local tries=$(($1 * 10)); shift
  for ((i = 0; i < tries; i++)); do "$@" && return 0; sleep 0.1; done
  return 1
}
finish() {
  echo "deb_package: $passed passed, $failed failed; exposure ${exposure:-?} (bound $max_exposure); package ${package_size:-?} bytes, installed ${installed_kib:-?} KiB"
  [[ $failed -eq 0 ]]
}
fatal() { echo "FAIL $1 (cannot go on)"; failed=$((failed + 1)); finish; exit 1; }

# A leftover from an interrupted run would make every check below meaningless.
if dpkg-query -W -f='${db:Status-Status}' sluice 2>/dev/null | grep -qv '^not-installed$'; then
  dpkg --purge sluice >/dev/null 2>&1
fi

# --- the package file ---------------------------------------------------------------
# As `make package` makes it: into build/packages, named by CPack's log line.
(cd "$build" && cpack -G DEB) >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; fatal "cpack makes the .deb"; }
deb=$(sed -n 's/^CPack: - package: \(.*\.deb\) generated\.$/\1/p' "$work/cpack.log")
[[ -f $deb ]] || { cat "$work/cpack.log"; fatal "cpack makes a .deb"; }
package_size=$(stat -c %s "$deb")
check "the file is named the Debian way: $(basename "$deb")" \
  bash -c "[[ '$(basename "$deb")' =~ ^sluice_[0-9]+\.[0-9]+\.[0-9]+_amd64\.deb$ ]]"

dpkg-deb -I "$deb" >"$work/info" 2>&1
field() { sed -n "s/^ $1: //p" "$work/info"; }
check "control: Package sluice, Architecture amd64" \
  bash -c "[[ '$(field Package)' == sluice && '$(field Architecture)' == amd64 ]]"
check "control: Section net, Priority optional" bash -c "[[ '$(field Section)' == net && '$(field Priority)' == optional ]]"
check "control: Depends computed by dpkg-shlibdeps (libc6, libstdc++6, libsqlite3, boost)" \
  bash -c "d='$(field Depends)'; [[ \$d == *libc6* && \$d == *libstdc++6* && \$d == *libsqlite3* && \$d == *libboost-program-options* && \$d == *passwd* ]]"
check "control: a description with a summary and a body" \
  bash -c "[[ -n '$(field Description)' ]] && grep -q '^  *Sluice decides' '$work/info'"
check "control: maintainer scripts and conffiles are in the package" \
  bash -c "for f in postinst prerm postrm conffiles; do grep -Eq \"^ +[0-9]+ bytes, +[0-9]+ lines +[*]? *\$f\" '$work/info' || { echo \"  no \$f\"; exit 1; }; done"
mkdir "$work/control"
dpkg-deb --control "$deb" "$work/control"
check "conffiles lists /etc/sluice/sluiced.conf" grep -qx "$conf" "$work/control/conffiles"
check "the maintainer scripts are executable shell scripts that pass sh -n" \
  bash -c "for s in postinst prerm postrm; do [[ -x '$work/control/'\$s ]] && sh -n '$work/control/'\$s || exit 1; done"

dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|; s|/$||' | grep -v '^$' >"$work/files"
man_pages=(/usr/share/man/man8/sluicectl.8.gz /usr/share/man/man8/sluiced.8.gz /usr/share/man/man1/sluice-run.1.gz)
completions=(/usr/share/bash-completion/completions/{sluicectl,sluiced,sluice-run})
for f in /usr/bin/sluiced /usr/bin/sluicectl /usr/bin/sluice-run /usr/lib/sluice/libsluice_preload.so \
         "$conf" "$unit" /usr/share/doc/sluice/README.md /usr/share/doc/sluice/copyright "${man_pages[@]}" "${completions[@]}"; do
  check "the package holds $f" grep -qx "$f" "$work/files"
done
# Directories on the way to the expected places are fine; anything else is a stray.
allowed='^/(usr(/bin(/sluiced|/sluicectl|/sluice-run)?|/lib(/sluice(/libsluice_preload\.so)?)?|/share(/doc(/sluice(/README\.md|/copyright)?)?|/man(/man8(/sluicectl\.8\.gz|/sluiced\.8\.gz)?|/man1(/sluice-run\.1\.gz)?)?|/bash-completion(/completions(/sluicectl|/sluiced|/sluice-run)?)?)?)?|etc(/sluice(/sluiced\.conf)?)?|lib(/systemd(/system(/sluiced\.service)?)?)?)?$'
no_strays() {
  local strays
  strays=$(grep -Ev "$allowed" "$work/files")
  [[ -z $strays ]] || { sed 's/^/  stray: /' <<<"$strays"; return 1; }
}
check "no file outside the expected places" no_strays
check "the programs are owned by root and not writable by others" \
  bash -c "dpkg-deb -c '$deb' | grep -E ' ./usr/bin/' | awk '{ if (\$2 != \"root/root\" || substr(\$1, 9, 1) == \"w\") exit 1 }'"

# --- installation -------------------------------------------------------------------
apt-get install -y --no-install-recommends "$deb" >"$work/install.log" 2>&1 || dpkg -i "$deb" >>"$work/install.log" 2>&1 \
  || { cat "$work/install.log"; fatal "the package installs"; }
check "dpkg says sluice is installed" \
  bash -c "[[ \$(dpkg-query -W -f='\${db:Status-Status}' sluice) == installed ]]"
installed_kib=$(dpkg-query -W -f='${Installed-Size}' sluice)
check "postinst created the system group sluice-admin" \
  bash -c "gid=\$(getent group sluice-admin | cut -d: -f3) && [[ -n \$gid ]]"
check "the programs are installed and run" bash -c "/usr/bin/sluiced --version && /usr/bin/sluicectl --version" 
check "man finds the installed pages (sluicectl(8), sluiced(8), sluice-run(1))" \
  bash -c "for p in 8:sluicectl 8:sluiced 1:sluice-run; do man -w \${p#*:} 2>/dev/null | grep -qx \"/usr/share/man/man\${p%%:*}/\${p#*:}.\${p%%:*}.gz\" || exit 1; done"
check "  ... which are gzipped roff that mandoc lints clean" \
  bash -c "for f in ${man_pages[*]}; do zcat \$f | mandoc -Tlint -Werror || exit 1; done"
check "the installed bash completion completes 'sluicectl rule add --dr<TAB>'" \
  bash -c "source /usr/share/bash-completion/completions/sluicectl; COMP_WORDS=(sluicectl rule add --dr); COMP_CWORD=3; _sluice_complete; [[ \${COMPREPLY[*]} == --dry-run ]]"
check "the conffile is installed, dpkg knows it as a conffile" \
  bash -c "[[ -f '$conf' ]] && dpkg-query -W -f='\${Conffiles}' sluice | grep -q '$conf'"
check "postinst did not try systemctl without systemd running (no unit enabled here)" \
  bash -c "[[ -d /run/systemd/system ]] || [[ ! -e /etc/systemd/system/multi-user.target.wants/sluiced.service ]]"
check "systemd-analyze verify accepts the installed unit" bash -c "systemd-analyze verify '$unit' 2>&1 | sed 's/^/  /'; [[ \${PIPESTATUS[0]} -eq 0 ]]"

# The exposure score of the sandbox: 0 is a unit that can do nothing, 10 one that
# can do anything. sluiced must stay root with CAP_SYS_PTRACE and reach the network,
# which alone costs about 2; the bound is the score the unit has, so that losing
# any of the main protections (the capability bounding set or the system call
# filter: 3.6 without either; ProtectSystem: 2.2) fails here and is a decision.
systemd-analyze security --offline=yes "$unit" >"$work/security" 2>&1
exposure=$(sed -n 's/.*Overall exposure level for sluiced.service: \([0-9.]*\).*/\1/p' "$work/security")
echo "     systemd-analyze security: $(tail -1 "$work/security")"
check "exposure score ${exposure:-?} is at most $max_exposure" \
  bash -c "[[ -n '$exposure' ]] && awk 'BEGIN { exit !($exposure <= $max_exposure) }' || { grep '✗' '$work/security'; exit 1; }"
check "the unit keeps callers' /proc entries visible (no ProtectProc=invisible)" bash -c "! grep -q '^ProtectProc=invisible' '$unit'"

# --- sluiced started the way the unit starts it ---------------------------------------
unit_value() { sed -n "s/^$1=//p" "$unit" | tail -1; }
exec_start=$(unit_value ExecStart)
run_user=$(unit_value User); run_user=${run_user:-root}
check "the unit is Type=notify" test "$(unit_value Type)" = notify
# What systemd does before ExecStart: the *Directory= settings, owned by User=, with
# their modes (0755 when none is given), and the umask.
declare -A base=([State]=/var/lib [Runtime]=/run [Logs]=/var/log [Cache]=/var/cache [Configuration]=/etc)
for kind in State Runtime Logs Cache Configuration; do
  name=$(unit_value "${kind}Directory")
  [[ -n $name ]] || continue
  mode=$(unit_value "${kind}DirectoryMode"); mode=${mode:-0755}
  install -d -m "$mode" -o "$run_user" "${base[$kind]}/$name"
  echo "     ${kind}Directory: ${base[$kind]}/$name ($mode, $run_user)"
done
umask_value=$(unit_value UMask); umask_value=${umask_value:-0022}

notify_socket=$work/notify.sock
socat -u "UNIX-RECV:$notify_socket" "OPEN:$work/notifications,creat,append" &
notify_pid=$!
wait_for 5 test -S "$notify_socket" || fatal "the notification socket is listening"
read -r -a exec_argv <<<"$exec_start"
(
  umask "$umask_value"
  cd /
  if [[ $run_user == root ]]; then
    exec env NOTIFY_SOCKET="$notify_socket" "${exec_argv[@]}"
  else
    exec runuser -u "$run_user" -- env NOTIFY_SOCKET="$notify_socket" "${exec_argv[@]}"
  fi
) </dev/null >"$work/sluiced.out" 2>"$work/sluiced.err" &
daemon_pid=$!
echo "     started: $exec_start (pid $daemon_pid)"
notified() { grep -q "$1" "$work/notifications" 2>/dev/null; }
ready_or_gone() { notified READY=1 || ! kill -0 "$daemon_pid" 2>/dev/null; }
wait_for 15 ready_or_gone
check "READY=1 arrives on NOTIFY_SOCKET" notified READY=1
check "  ... from a daemon still running" kill -0 "$daemon_pid"
if ! kill -0 "$daemon_pid" 2>/dev/null; then cat "$work/sluiced.err"; fatal "sluiced runs under the unit's command line"; fi

check "sluicectl status answers on the default endpoint" status_is 0 /usr/bin/sluicectl status
check "  ... which is the unit's runtime directory" test -S /run/sluice/control.sock
check "  ... and it is the daemon the unit started" \
  bash -c "[[ \$(/usr/bin/sluicectl status --json | jq -r .pid) == $daemon_pid ]]"
check "the database is in the unit's state directory" test -f /var/lib/sluice/sluice.db
check "root adds a rule" status_is 0 /usr/bin/sluicectl rule add --action block --dst 192.0.2.0/24 --comment "deb test"

if useradd --system --no-create-home --shell /usr/sbin/nologin "$plain_user" &&
   useradd --system --no-create-home --shell /usr/sbin/nologin "$admin_user"; then
  # sluicectl's default endpoint for a user other than root is their own
  # ($XDG_RUNTIME_DIR or /tmp/sluice-UID), so the system's is named.
  as() { local who=$1; shift; runuser -u "$who" -- /usr/bin/sluicectl --control /run/sluice/control.sock "$@"; }
  check "a plain user may list the rules" status_is 0 as "$plain_user" rule list
  check "  ... and sees root's rule" said "deb test"
  check "a plain user may not add a rule (exit 4, refused)" status_is 4 as "$plain_user" rule add --action block --dst 198.51.100.0/24
  check "  ... and is told it needs an administrator" said "needs an administrator"
  usermod -aG sluice-admin "$admin_user"
  check "a member of sluice-admin may add a rule" \
    status_is 0 as "$admin_user" rule add --action block --dst 198.51.100.0/24 --comment "by the admin group"
  check "  ... and the audit trail names them" \
    bash -c "/usr/bin/sluicectl audit show --json | jq -e '.[0].account == \"$admin_user\"' >/dev/null"
else
  check "creating throwaway users (useradd)" false
fi

# `sluicectl service reload` is being written on main; until it is there the
# reload is not exercised, and this says so.
if /usr/bin/sluicectl service --help >/dev/null 2>&1; then
  # ExecReload, as systemctl reload runs it.
  read -r -a reload_argv <<<"$(unit_value ExecReload)"
  : >"$work/notifications"
  check "ExecReload (sluicectl service reload) succeeds" status_is 0 "${reload_argv[@]}"
  check "  ... and the daemon says READY=1 again" wait_for 10 notified READY=1
else
  echo "     (sluicectl has no 'service' command yet: ExecReload not exercised)"
fi

kill -TERM "$daemon_pid"
check "on SIGTERM, STOPPING=1 arrives" wait_for 15 notified STOPPING=1
check "  ... and sluiced exits" wait_for 30 bash -c "! kill -0 $daemon_pid 2>/dev/null"
wait "$daemon_pid"
code=$?
daemon_pid=""
check "  ... with status 0" test "$code" -eq 0
check "  ... and its log went to stderr (the journal)" grep -q "stopped cleanly" "$work/sluiced.err"
# RuntimeDirectory= is removed by systemd once the service stopped.
rm -rf /run/sluice

# --- removal with the provider in the loader's preload list -----------------------------
# The removal runs in a mount namespace with a private copy of /etc, so that the
# provider this step lists in ld.so.preload reaches no program outside this test.
# dpkg's database and the files under /usr are the machine's own; /etc changes
# made by the remove (only ld.so.preload: conffiles stay until purge) stay private.
cp -a /etc "$work/etc"
unshare --mount --propagation private bash -c '
  set -e
  mount --bind "$1/etc" /etc
  /usr/bin/sluicectl provider install >/dev/null
  grep -q libsluice_preload.so /etc/ld.so.preload
  echo listed >"$1/provider-listed"
  dpkg --remove sluice >"$1/remove.log" 2>&1
  if grep -qs libsluice_preload.so /etc/ld.so.preload; then echo still-listed >"$1/provider-after"; fi
' _ "$work" || { echo "  the remove failed:"; cat "$work/remove.log" 2>/dev/null; }
check "sluicectl provider install listed the provider (in the private /etc)" test -f "$work/provider-listed"
check "dpkg --remove took it out of /etc/ld.so.preload" test ! -e "$work/provider-after"
check "  ... before the library went: no loader complaint during the removal" \
  bash -c "! grep -i 'cannot be preloaded' '$work/remove.log'"
check "after remove the programs are gone, the conffile stays" \
  bash -c "[[ ! -e /usr/bin/sluiced && ! -e /usr/lib/sluice/libsluice_preload.so && -f '$conf' ]]"

dpkg --purge sluice >"$work/purge.log" 2>&1 || { cat "$work/purge.log"; check "dpkg --purge sluice" false; }
for gone in /usr/bin/sluiced /usr/bin/sluicectl /usr/lib/sluice "$unit" /etc/sluice /var/lib/sluice /var/log/sluice /usr/share/doc/sluice \
            "${man_pages[@]}" "${completions[@]}"; do
  check "purge leaves no $gone" test ! -e "$gone"
done
check "purge keeps the sluice-admin group (Debian keeps system groups; see postrm)" getent group sluice-admin
check "dpkg no longer knows sluice" \
  bash -c "! dpkg-query -W -f='\${db:Status-Status}' sluice 2>/dev/null | grep -qv '^not-installed\$'"

finish

# shellcheck shell=bash
# netdata charts.d module (netdata 1.37, Debian package netdata-plugins-bash) for a kvm/spinlocks
# directory: a pvlockfs mount or a real guest's debugfs.
#
# Install:
#   cp docs/recipes/kvm_spinlocks.chart.sh /usr/lib/netdata/charts.d/
#   echo 'kvm_spinlocks_dir=/path/to/mount/kvm/spinlocks' > /etc/netdata/charts.d/kvm_spinlocks.conf
# Try it without the daemon (prints netdata's plugin protocol every second):
#   /usr/lib/netdata/plugins.d/charts.d.plugin 1 kvm_spinlocks
#
# Charts: acquisitions and slow paths per second; spinning, blocked and total time (ms per s);
# the timeout knob; one chart per histogram with a dimension per log2 bucket (samples per s, named
# by the bucket's lower bound). Counters go to netdata as raw values with the incremental
# algorithm, so netdata computes the rates and takes a zero_stats reset as a counter reset.

kvm_spinlocks_dir=/sys/kernel/debug/kvm/spinlocks
kvm_spinlocks_update_every=
kvm_spinlocks_priority=90000

# Lower bound of log2 bucket $1 ([2^i, 2^(i+1)) ns), as a dimension name.
kvm_spinlocks_bucket_name() {
  local i=$1 units=(ns us ms s)
  echo "$((1 << (i % 10)))${units[$((i / 10))]}"
}

kvm_spinlocks_check() {
  if [ ! -r "${kvm_spinlocks_dir}/histo_total" ] || [ ! -r "${kvm_spinlocks_dir}/taken" ]; then
    error "cannot read ${kvm_spinlocks_dir}/taken and histo_total: set kvm_spinlocks_dir in kvm_spinlocks.conf to a kvm/spinlocks directory"
    return 1
  fi
  return 0
}

kvm_spinlocks_create() {
  local p=$((kvm_spinlocks_priority)) e=$kvm_spinlocks_update_every h i
  cat << EOF
CHART kvm_spinlocks.acquisitions '' "Spinlock acquisitions" "acquisitions/s" spinlocks kvm_spinlocks.acquisitions line $p $e '' '' 'kvm_spinlocks'
DIMENSION taken '' incremental 1 1
DIMENSION taken_slow '' incremental 1 1
DIMENSION released '' incremental 1 1
CHART kvm_spinlocks.time '' "Time in spinlock acquisition" "milliseconds/s" spinlocks kvm_spinlocks.time line $((p + 1)) $e '' '' 'kvm_spinlocks'
DIMENSION time_spinning spinning incremental 1 1000000
DIMENSION time_blocked blocked incremental 1 1000000
DIMENSION time_total total incremental 1 1000000
CHART kvm_spinlocks.timeout '' "Spin iterations before yielding" "iterations" knobs kvm_spinlocks.timeout line $((p + 2)) $e '' '' 'kvm_spinlocks'
DIMENSION timeout '' absolute 1 1
EOF
  p=$((p + 3))
  for h in histo_total histo_spinning histo_blocked; do
    echo "CHART kvm_spinlocks.${h} '' \"${h}: samples per log2 bucket\" \"samples/s\" histograms kvm_spinlocks.${h} stacked ${p} ${e} '' '' 'kvm_spinlocks'"
    for ((i = 0; i < 31; i++)); do
      printf "DIMENSION b%02d '%s' incremental 1 1\n" "$i" "$(kvm_spinlocks_bucket_name "$i")"
    done
    p=$((p + 1))
  done
  return 0
}

# One chart of scalar files: every file is read before anything is printed, so a failed read
# leaves no half-written block.
kvm_spinlocks_scalars() {
  local chart=$1 dt=$2 f v sets=
  shift 2
  for f in "$@"; do
    read -r v < "${kvm_spinlocks_dir}/${f}" || return 1
    sets+="SET ${f} = ${v}"$'\n'
  done
  printf 'BEGIN kvm_spinlocks.%s %s\n%sEND\n' "${chart}" "${dt}" "${sets}"
}

kvm_spinlocks_update() {
  local h i
  local -a b
  kvm_spinlocks_scalars acquisitions "$1" taken taken_slow released || return 1
  kvm_spinlocks_scalars time "$1" time_spinning time_blocked time_total || return 1
  kvm_spinlocks_scalars timeout "$1" timeout || return 1
  for h in histo_total histo_spinning histo_blocked; do
    read -r -a b < "${kvm_spinlocks_dir}/${h}" || return 1
    [ "${#b[@]}" -eq 31 ] || return 1
    echo "BEGIN kvm_spinlocks.${h} $1"
    for ((i = 0; i < 31; i++)); do
      printf 'SET b%02d = %s\n' "$i" "${b[$i]}"
    done
    echo "END"
  done
  return 0
}

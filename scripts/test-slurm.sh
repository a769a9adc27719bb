#!/usr/bin/env bash
# A real Slurm on this one machine: starts munged, slurmctld and slurmd with
# a minimal configuration (no cgroups, everything under a temporary folder,
# free ports), plans a tiny onnxsweep, runs it as `sbatch --array` through
# deploy/slurm/onnxsweep.sbatch, merges, and checks that results.json
# equals a single-process sweep's byte for byte. Then stops the daemons.
#
# Needs slurm-wlm and munge (scripts/setup.sh installs them), MNIST and
# ../shared/fixtures. Without them it says why and exits 0, except under
# CI=true, where it fails.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

missing() {
  echo "test-slurm: $1" >&2
  if [ "${CI:-}" = true ]; then echo "test-slurm: CI=true: required" >&2; exit 1; fi
  echo "test-slurm: skipped" >&2
  exit 0
}
for b in munged slurmctld slurmd sbatch sinfo; do
  command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || missing "$b is not installed (apt-get install slurm-wlm munge)"
done
PATH=$PATH:/usr/sbin
model=${ONNXPRUNE_SHARED:-$root/../shared}/fixtures/mnist_cnn/model.onnx
[ -f "$model" ] || missing "$model is absent"
[ -n "${MNIST_DIR:-}" ] || MNIST_DIR=$(scripts/fetch-mnist.sh 2>/dev/null | tail -1) || true
[ -n "${MNIST_DIR:-}" ] && [ -d "$MNIST_DIR" ] || missing "MNIST is absent (scripts/fetch-mnist.sh)"
export MNIST_DIR

tmp=$(mktemp -d /tmp/onnxsweep-slurm.XXXXXX)
chmod 755 "$tmp"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "${KEEP:-}" != 1 ]; then rm -rf "$tmp"; else echo "test-slurm: kept $tmp" >&2; fi
}
trap cleanup EXIT

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
user=$(id -un)
host=$(hostname -s)
mkdir -p "$tmp/munge" "$tmp/state" "$tmp/spool" "$tmp/log" "$tmp/shared"
chmod 700 "$tmp/munge"

# munge: our own key and socket, nothing of the system's touched.
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$tmp/munge/munge.key"
sock=$tmp/munge/munge.socket
munged --foreground --force --key-file="$tmp/munge/munge.key" --socket="$sock" \
  --pid-file="$tmp/munge/munged.pid" --log-file="$tmp/log/munged.log" --seed-file="$tmp/munge/seed" >"$tmp/log/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
[ -S "$sock" ] || { cat "$tmp/log/munged.log" >&2; echo "test-slurm: munged did not start" >&2; exit 1; }

conf=$tmp/slurm.conf
cat >"$conf" <<EOF
ClusterName=onnxsweep
SlurmctldHost=$host(127.0.0.1)
SlurmUser=$user
SlurmdUser=$user
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
AuthType=auth/munge
AuthInfo=socket=$sock
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool/%n
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
MpiDefault=none
ReturnToService=2
SlurmdTimeout=30
NodeName=$host NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$conf
slurmctld -D -f "$conf" -i >"$tmp/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$conf" -N "$host" >"$tmp/log/slurmd.out" 2>&1 &
pids+=($!)
ready=
for _ in $(seq 150); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed)'; then ready=1; break; fi
  sleep 0.2
done
if [ -z "$ready" ]; then
  sinfo >&2 || true
  tail -20 "$tmp"/log/* >&2 || true
  echo "test-slurm: the node did not become idle" >&2
  exit 1
fi
echo "test-slurm: slurmctld and slurmd up ($(sinfo -h -o '%N %c CPUs %T'))" >&2

go build -o "$tmp/onnxsweep" ./cmd/onnxsweep
settings=(--limit 500 --methods global,local,structured-l1 --amounts 0,0.5,0.9 --latency none)
dir=$tmp/shared/sweep
"$tmp/onnxsweep" plan "$model" --out "$dir" "${settings[@]}"
n=$(ls "$dir"/spec.json >/dev/null && /usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["points"]))' "$dir/spec.json")
ONNXSWEEP=$tmp/onnxsweep sbatch --wait --array=0-$((n - 1)) --output="$tmp/log/task-%a.log" \
  deploy/slurm/onnxsweep.sbatch "$dir" >&2 || { tail -n 20 "$tmp"/log/task-*.log "$tmp/log/slurmd.log" >&2; exit 1; }
done_points=$(ls "$dir"/points/*.json | wc -l)
[ "$done_points" = "$n" ] || { echo "test-slurm: $done_points of $n point files" >&2; exit 1; }
"$tmp/onnxsweep" merge "$dir" >/dev/null

"$tmp/onnxsweep" "$model" --out "$tmp/single" "${settings[@]}" >/dev/null
if cmp "$dir/results.json" "$tmp/single/results.json"; then
  echo "test-slurm: ok: $n Slurm array tasks merged to the single-process sweep's results.json, byte for byte" >&2
else
  diff "$dir/results.json" "$tmp/single/results.json" | head -20 >&2
  echo "test-slurm: FAIL: the Slurm sweep's results.json differs from the single-process one's" >&2
  exit 1
fi

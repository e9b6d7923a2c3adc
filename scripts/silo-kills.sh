#!/usr/bin/env bash
# Runs SiloFaultTests' kill test with more kills than CI affords: silo processes of
# samples/DistributedTrainer killed (SIGKILL) at random points of coordinator runs, each run's
# model compared byte for byte with MnistTrainer --shards 3. Needs redis-server.
#   scripts/silo-kills.sh [KILLS] [SEED]     (50 kills and a seed from the clock by default)
set -euo pipefail
cd "$(dirname "$0")/.."
export FUNCTIONALBACKPROP_SILO_KILLS="${1:-50}"
[ -n "${2:-}" ] && export FUNCTIONALBACKPROP_SILO_KILL_SEED="$2"
dotnet test tests/Orleans -c Release --filter "FullyQualifiedName~SiloFaultTests.SilosKilled" --logger "console;verbosity=detailed"

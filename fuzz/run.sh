#!/usr/bin/env bash
# Coverage-guided fuzzing of the readers of untrusted files: the model loader, the IDX reader, the
# CSV reader and the ONNX reader (fuzz/Fuzz/Targets.cs says what each target checks).
#
#   fuzz/run.sh [SECONDS] [TARGET ...]     default: 60 seconds each for model, idx, csv and onnx
#
# Publishes fuzz/Fuzz, instruments the library's assemblies (FunctionalBackprop.Core.dll,
# FunctionalBackprop.dll, FunctionalBackprop.Onnx.dll) and the protobuf runtime the ONNX reader
# parses with (Google.Protobuf.dll) with SharpFuzz.CommandLine, writes a seed corpus (small models
# from the library's writers, pieces of data/mnist-10k, a few CSV files, PyTorch's ONNX exports
# from tests/Unit/Onnx/Data) and runs afl-fuzz on each target
# for SECONDS. Findings go to fuzz/out/findings/TARGET; each target's line in the summary gives
# afl-fuzz's own counts (execs_done, run_time, saved_crashes, saved_hangs). Any crash is replayed
# in-process, so its exception and stack trace are printed. Exits 1 if a target crashed or hung.
# `fuzz/run.sh 20 selfcheck` checks the pipeline itself: that target crashes on purpose.
#
# Needs afl-fuzz (Debian: apt-get install afl++) and the .NET 10 SDK; the sharpfuzz tool is
# installed from the NuGet registry into fuzz/out/tools.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
if [ "${#targets[@]}" -eq 0 ]; then targets=(model idx csv onnx); fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
out=fuzz/out
sharpfuzz_version=2.3.0   # the same version as the SharpFuzz package in Directory.Packages.props

if ! command -v afl-fuzz >/dev/null 2>&1; then
  echo "afl-fuzz not found: apt-get install afl++" >&2
  exit 2
fi

# 1. The harness, published twice: out/plain as built (it writes the seeds and replays crashes:
# instrumented code only runs under afl-fuzz, whose shared memory it writes to) and out/bin, whose
# copies of the library are instrumented, leaving the normal build alone.
rm -rf "$out/bin" "$out/plain"
dotnet publish fuzz/Fuzz -c Release -o "$out/plain" --nologo -v quiet
cp -r "$out/plain" "$out/bin"
plain="$out/plain/FunctionalBackprop.Fuzz.dll"

# 2. Instrument the library and the protobuf parser under the ONNX reader (not the harness,
# SharpFuzz or FSharp.Core).
if [ ! -x "$out/tools/sharpfuzz" ]; then
  dotnet tool install --tool-path "$out/tools" SharpFuzz.CommandLine --version "$sharpfuzz_version" >/dev/null
fi
for dll in FunctionalBackprop.Core.dll FunctionalBackprop.dll FunctionalBackprop.Onnx.dll Google.Protobuf.dll; do
  "$out/tools/sharpfuzz" "$out/bin/$dll"
done

# 3. Seeds.
rm -rf "$out/seeds"
dotnet "$plain" seed "$out/seeds"

# 4. Fuzz. AFL_SKIP_BIN_CHECK: the target is `dotnet`, instrumented through SharpFuzz, not by afl's
# compiler. No CPU binding and no checks of the machine's crash handler or CPU governor: this runs
# on shared machines and containers.
export AFL_SKIP_BIN_CHECK=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1
status=0
summary=()
for target in "${targets[@]}"; do
  findings="$out/findings/$target"
  rm -rf "$findings"
  mkdir -p "$findings"
  echo "== $target: afl-fuzz for $seconds s"
  afl-fuzz -i "$out/seeds/$target" -o "$findings" -t 5000 -m none -V "$seconds" \
    -- dotnet "$out/bin/FunctionalBackprop.Fuzz.dll" "$target" >"$findings/afl.log" 2>&1 || {
      echo "afl-fuzz failed for $target; the end of its log:" >&2
      tail -n 30 "$findings/afl.log" >&2
      status=1
      continue
    }
  stats="$findings/default/fuzzer_stats"
  stat() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
  line="$target: execs_done=$(stat execs_done) run_time=$(stat run_time)s execs_per_sec=$(stat execs_per_sec) corpus_count=$(stat corpus_count) edges_found=$(stat edges_found) saved_crashes=$(stat saved_crashes) saved_hangs=$(stat saved_hangs)"
  summary+=("$line")
  echo "$line"
  if [ "$(stat saved_crashes)" != "0" ]; then
    dotnet "$plain" "$target" --replay "$findings/default/crashes" || true
    status=1
  fi
  if [ "$(stat saved_hangs)" != "0" ]; then
    echo "$target: inputs that hung are in $findings/default/hangs" >&2
    status=1
  fi
done

echo "== summary"
printf '%s\n' "${summary[@]}"
exit "$status"

# Sourced by the scripts under docs/ from the repository root: defines drift(), the built CLI, with log lines
# instead of live progress (CI=1), as these scripts are batch jobs. DRIFT_BIN names a built drift.dll folder to
# use instead of building, so that the tree can be rebuilt while a long script runs.
if [[ -z "${DRIFT_BIN:-}" ]]; then
  dotnet build src/Drift.Train -c Release >/dev/null
  DRIFT_BIN=src/Drift.Train/bin/Release/net10.0/linux-x64
fi
drift() { CI=1 dotnet "$DRIFT_BIN/drift.dll" "$@"; }

#!/usr/bin/env bash
# One entry point for a fresh machine: creates the virtual environment and
# installs what is missing, then runs the requested job.
#
#   bash dev.sh demo    record a virtual plant (a shortened run-to-failure scenario on the FEM
#                       truth), replay it through the twin with remaining-life forecasts, report
#   bash dev.sh test    run the test suite
#   bash dev.sh bench   run the benchmarks (figures go to benchmarks/RESULTS.md by hand)
#   bash dev.sh setup   only install
set -euo pipefail
cd "$(dirname "$0")"

VENV="${TWIN_VENV:-.venv}"

# Two cores: keep BLAS, OpenMP, PETSc and torch from oversubscribing them.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}"
export MKL_NUM_THREADS="${MKL_NUM_THREADS:-1}"
export PYVISTA_OFF_SCREEN=true

find_python() {
    # .python-version pins 3.12 (the DOLFINx wheel needs >= 3.12); pyenv honours it.
    for candidate in python3 python3.12 python3.13; do
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    echo "error: Python >= 3.12 not found (python3 is $(python3 --version 2>&1)); install it or use pyenv" >&2
    return 1
}

apt_install() {
    # apt_install WHAT PACKAGE...: install Debian packages, or say what is missing.
    local what="$1"
    shift
    if [ "$(id -u)" -ne 0 ]; then
        echo "error: $what is missing; install the Debian packages '$*' as root" >&2
        return 1
    fi
    echo "installing $what from Debian ($*) ..."
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
}

ensure_system() {
    # Off-screen rendering (pyvista/VTK) needs EGL and Mesa's drivers.
    if ! ldconfig -p | grep -q 'libEGL.so.1'; then
        apt_install "EGL for off-screen rendering" libegl1 libegl-mesa0 libgl1 libgl1-mesa-dri
    fi
}

ensure_mosquitto() {
    # Tests and benchmarks run a real broker; openssl makes the TLS test certificates.
    if ! command -v mosquitto >/dev/null 2>&1 || ! command -v mosquitto_pub >/dev/null 2>&1 ||
        ! command -v openssl >/dev/null 2>&1; then
        apt_install "Mosquitto" mosquitto mosquitto-clients openssl
    fi
}

ensure_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        echo "creating virtual environment $VENV ..."
        "$(find_python)" -m venv "$VENV"
    fi
    local stamp="$VENV/.setup-stamp"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        echo "installing materials-twin and its dependencies into $VENV (a few minutes the first time) ..."
        "$VENV/bin/python" -m pip install -q --upgrade pip
        "$VENV/bin/python" -m pip install -q -e ".[dev]"
        touch "$stamp"
    fi
}

job="${1:-help}"
shift || true
case "$job" in
    setup)
        ensure_system
        ensure_venv
        ensure_mosquitto
        ;;
    demo)
        ensure_system
        ensure_venv
        # the whole twin on a virtual plant: a shortened run-to-failure scenario recorded
        # from the FEM truth (SimPy plant, historian, archive), replayed through the twin
        # with a remaining-life forecast every 10 plant days and the deterministic
        # baseline beside it, then the validation report (--force: a re-run replaces it)
        "$VENV/bin/twin" scenario run examples/scenarios/run_to_failure.toml \
            --out results/scenario --quick --force "$@"
        "$VENV/bin/twin" scenario replay results/scenario
        "$VENV/bin/twin" scenario report results/scenario
        echo "run folder: results/scenario/ (archive, truth, replay/, report/)"
        echo "report: results/scenario/report/index.html"
        ;;
    test)
        ensure_system
        ensure_venv
        ensure_mosquitto
        "$VENV/bin/python" -m pytest "$@"
        ;;
    bench)
        ensure_system
        ensure_venv
        ensure_mosquitto
        for script in benchmarks/bench_*.py; do
            echo "== $script"
            "$VENV/bin/python" "$script"
        done
        ;;
    *)
        sed -n '2,9p' "$0"
        ;;
esac

#!/usr/bin/env bash
# One entry point for a fresh machine: creates the virtual environment and
# installs what is missing, then runs the requested job.
#
#   bash dev.sh demo    solve the example component, record a virtual plant, run the twin on it,
#                       forecast its remaining life
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
        # --force: a re-run replaces the earlier demo results whole
        "$VENV/bin/twin" model solve examples/grade91_header.toml --out results/grade91_header --force "$@"
        # the twin: a virtual plant's archive from the FEM truth (hidden h and bias), then
        # the twin replays it and says what it learned and how much life was used
        "$VENV/bin/twin" scenario record examples/grade91_header.toml --out results/plant \
            --cycles 3 --bore-htc 3000 --bias TC-outer-01=1.5 --force >/dev/null
        "$VENV/bin/twin" assimilate examples/grade91_header.toml --archive results/plant/archive \
            --out results/twin --force
        # the remaining life from the twin's checkpoint under the example's duty plan
        "$VENV/bin/twin" forecast examples/grade91_header.toml --checkpoint results/twin \
            --plan examples/grade91_header.plan.toml --out results/forecast --force
        echo "FEM results: results/grade91_header/; twin state, checkpoint and plots: results/twin/;"
        echo "forecast: results/forecast/"
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

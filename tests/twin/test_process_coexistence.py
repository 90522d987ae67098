"""One twin process renders 3-D pictures and trains GP surrogates.

VTK's off-screen rendering loads Mesa's LLVM; torch's triton (imported by torch's
optimisers through torch._dynamo) carries its own LLVM and segfaulted when imported
after Mesa's in the same process. Rendering therefore runs in a child process. The
check runs in a subprocess so that a regression fails this test instead of killing
the whole suite.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys
import textwrap

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_rendering_then_training_a_gp_in_one_process_does_not_crash(tmp_path: pathlib.Path) -> None:
    script = textwrap.dedent(
        f"""
        import pathlib
        import numpy as np
        import dolfinx_solver, dolfinx  # PETSc installs its signal handlers, as in the twin
        from models.export import _render_in_child
        from surrogates.gp import GPSurrogate

        png = pathlib.Path({str(tmp_path)!r}) / "pipe.png"
        r = np.linspace(0.15, 0.2, 11)
        _render_in_child(r=r, values=r * 100.0, label="x [-]", title="t", path=png,
                         window_size=(200, 150))
        assert png.stat().st_size > 1000
        rng = np.random.default_rng(0)
        X = rng.random((40, 2))
        gp = GPSurrogate().fit(X, np.sin(3.0 * X[:, 0]))
        mean, std = gp.predict(X[:5])
        # The GP interpolates its own training data (independent reference: the function).
        print(float(np.max(np.abs(mean - np.sin(3.0 * X[:5, 0])))))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert float(done.stdout.strip().splitlines()[-1]) < 0.05

"""Errors on user input come from each package's errors.py tree (STYLE.md rule 10)."""

from __future__ import annotations

import ast
import pathlib

import numpy as np
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
# sensors/ routes its own errors in this change (another engineer's room).
PACKAGES = ("models", "surrogates", "twin", "scenarios")
# (TypeError marks a programming error, not bad input, and is left alone.)
BUILTINS = {"ValueError", "KeyError", "RuntimeError"}
# pydantic turns ValueError raised in a validator into its ValidationError, which
# models.config translates into ConfigError naming the field: the one sanctioned use.
VALIDATORS = {"model_validator", "field_validator"}


def _plain_raises(path: pathlib.Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []

    def decorated_as_validator(fn: ast.AST) -> bool:
        for dec in getattr(fn, "decorator_list", []):
            target = dec.func if isinstance(dec, ast.Call) else dec
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            if name in VALIDATORS:
                return True
        return False

    def visit(node: ast.AST, in_validator: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_validator or (
                isinstance(child, ast.FunctionDef) and decorated_as_validator(child)
            )
            if isinstance(child, ast.Raise) and isinstance(child.exc, ast.Call):
                func = child.exc.func
                if isinstance(func, ast.Name) and func.id in BUILTINS and not inside:
                    found.append(f"{path.relative_to(ROOT)}:{child.lineno} {func.id}")
            visit(child, inside)

    visit(tree, False)
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_no_plain_builtin_exception_is_raised_on_user_input(package: str) -> None:
    offending = [hit for p in sorted((ROOT / package).rglob("*.py")) for hit in _plain_raises(p)]
    assert offending == []


def test_the_scanner_finds_a_plain_raise_and_spares_a_pydantic_validator(tmp_path) -> None:
    # the check itself can fail: a plain raise is found, a validator's is not
    sample = ROOT / "tests" / "_sample_raise.py"
    sample.write_text(
        "from pydantic import model_validator\n"
        "def f(x):\n    raise ValueError('x')\n"
        "class C:\n    @model_validator(mode='after')\n"
        "    def g(self):\n        raise ValueError('y')\n"
    )
    try:
        assert _plain_raises(sample) == ["tests/_sample_raise.py:3 ValueError"]
    finally:
        sample.unlink()


def test_surrogate_parameter_and_input_errors_are_ours_and_value_errors() -> None:
    from surrogates.errors import InvalidInputError, InvalidParameterError, SurrogateError
    from surrogates.validation import metrics

    with pytest.raises(InvalidInputError) as info:
        metrics([1.0, 2.0], [1.0], std=[0.1])
    assert isinstance(info.value, SurrogateError) and isinstance(info.value, ValueError)
    assert "(2,), (1,), (1,)" in str(info.value)
    from surrogates.gp import GPSurrogate

    with pytest.raises(InvalidParameterError, match="kernel: must be one of .* 'cubic'"):
        GPSurrogate(kernel="cubic").fit(np.zeros((4, 1)), np.zeros(4))


def test_model_input_errors_name_the_sample_that_is_wrong() -> None:
    from models.errors import ModelError, ModelInputError
    from models.responses import ModalResponse

    r = ModalResponse(direct=0.0, amplitudes=np.array([1.0]), time_constants=np.array([10.0]))
    with pytest.raises(ModelInputError, match=r"t\[2\] = 1.0 s follows t\[1\] = 2.0 s") as info:
        r.simulate([0.0, 2.0, 1.0], [0.0, 1.0, 1.0])
    assert isinstance(info.value, ModelError) and isinstance(info.value, ValueError)

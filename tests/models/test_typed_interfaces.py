"""The interfaces the twin calls are typed (so mypy strict guards the callers)."""

from __future__ import annotations

import inspect

import pytest

from models import responses, service

INTERFACES = [
    service.solve,
    service.ServiceModel.__init__,
    service.ServiceModel.sample,
    responses.unit_responses,
    responses.fit_modes,
    responses.ModalResponse.step,
    responses.ModalResponse.simulate,
    responses.ModalSet.simulate,
    responses.ModalSet.to_dataset,
    responses.ModalSet.from_dataset,
]


@pytest.mark.parametrize("function", INTERFACES, ids=lambda f: f.__qualname__)
def test_no_parameter_or_return_of_the_busiest_interfaces_is_any(function) -> None:
    sig = inspect.signature(function)
    def loose(p: inspect.Parameter) -> bool:
        return p.annotation is inspect.Parameter.empty or "Any" in str(p.annotation)

    untyped = {n: p.annotation for n, p in sig.parameters.items() if n != "self" and loose(p)}
    assert untyped == {}
    assert sig.return_annotation is not inspect.Signature.empty
    assert "Any" not in str(sig.return_annotation)


def test_the_config_and_material_annotations_name_their_classes() -> None:
    sig = inspect.signature(service.solve)
    assert sig.parameters["config"].annotation == "ComponentConfig"
    assert sig.parameters["material"].annotation == "Material | None"
    assert sig.parameters["constitutive"].annotation == "ConstitutiveFactory | None"
    assert sig.return_annotation == "xr.Dataset"

"""A material's name: a chemical formula or an element's name, not an acronym of one-letter symbols or a unit."""

from __future__ import annotations

import pytest

from rag.chemistry import is_formula, is_material_name


@pytest.mark.parametrize(
    "name",
    ["La3Ni2O7", "NbN", "MgB2", "α-RuCl3", "1T-TaSe₂", "KSrFe2(PO4)3", "YBa2Cu3O7-δ", "(La,Pr)3Ni2O7", "GaAs"],
)
def test_formulas(name: str) -> None:
    assert is_formula(name)


@pytest.mark.parametrize("name", ["BCS", "CNN", "THz", "Abelian", "Ising", "ARPES", "DFT", "GPU", "Nb", "Qx2"])
def test_not_formulas(name: str) -> None:
    assert not is_formula(name)


def test_element_names_are_material_names() -> None:
    assert is_material_name("niobium") and is_material_name("Graphene") and not is_material_name("spin")

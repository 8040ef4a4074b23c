"""One U label (litcl_flows.labels): job names, the report, folders and query filters."""

from __future__ import annotations

import pytest

from litcl_flows.labels import parse_u_label, u_folder_label, u_label
from litcl_flows.store.query import parse_hubbard_u


@pytest.mark.parametrize(
    ("u_set", "label", "folder"),
    [
        ({"Ti": 4.0}, "U(Ti)=4", "U_Ti4"),
        ({"Ti": 0.0}, "U=0", "U0"),
        ({}, "U=0", "U0"),
        ({"V": 3.5, "Ti": 4.0, "Cl": 0.0}, "U(Ti)=4 U(V)=3.5", "U_Ti4_U_V3.5"),
    ],
)
def test_folder_names_come_from_the_label(u_set: dict, label: str, folder: str) -> None:
    assert u_label(u_set) == label
    assert u_folder_label(u_set) == folder


@pytest.mark.parametrize(
    ("text", "u_set"),
    [
        ("U(Ti)=4", {"Ti": 4.0}),
        ("U(Ti)=4 U(V)=3.5", {"Ti": 4.0, "V": 3.5}),
        ("Ti=4,V=3", {"Ti": 4.0, "V": 3.0}),
        ("Ti=0", {"Ti": 0.0}),
        ("U=0", {}),
    ],
)
def test_the_label_reads_back(text: str, u_set: dict) -> None:
    assert parse_u_label(text) == u_set


@pytest.mark.parametrize("text", ["Ti:4", "", "U(Ti)4", "ti=4"])
def test_a_malformed_label_is_one_line(text: str) -> None:
    with pytest.raises(ValueError, match=r"expected U\(ELEMENT\)=eV or ELEMENT=eV, e\.g\. Ti=4"):
        parse_u_label(text)


def test_query_filters_need_an_element() -> None:
    assert parse_hubbard_u("U(Ti)=4") == {"Ti": 4.0}
    with pytest.raises(ValueError, match=r"names no element: filter on one, e\.g\. Ti=0"):
        parse_hubbard_u("U=0")

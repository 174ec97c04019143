"""Kinds are found through the inventory_sync.sources entry-point group."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from inventory_sync.sources import UnknownSourceKind, known_kinds, load_kind
from inventory_sync.sources.csv_file import KIND as CSV


class TestRegistry:
    def test_the_built_in_kinds_are_registered(self):
        assert {"csv", "sql", "http_json"} <= set(known_kinds())

    def test_load_kind_returns_the_registered_object(self):
        assert load_kind("csv") is CSV

    @pytest.mark.parametrize("name", ["csv", "sql", "http_json"])
    def test_every_built_in_kind_has_an_options_model_and_a_builder(self, name):
        kind = load_kind(name)
        assert issubclass(kind.options_model, BaseModel)
        assert callable(kind.build)

    def test_an_unknown_kind_names_the_known_ones(self):
        with pytest.raises(UnknownSourceKind) as raised:
            load_kind("ftp")
        assert isinstance(raised.value, KeyError)
        assert raised.value.type_name == "ftp"
        assert str(raised.value).startswith("unknown source type 'ftp' (known types: ")
        assert "csv" in str(raised.value)

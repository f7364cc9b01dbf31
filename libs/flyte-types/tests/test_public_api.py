"""The public surface of flyte_types is pinned: a change here is a reviewed API change."""

from __future__ import annotations

import importlib
import types

import pytest

EXPECTED = {
    "flyte_types": [
        "INPUTS_FILE_NAME",
        "MAX_INLINE_IO_BYTES",
        "OUTPUTS_FILE_NAME",
        "FlytePickle",
        "Renderable",
        "TypeEngine",
        "TypeTransformer",
        "TypeTransformerFailedError",
        "__version__",
        "build_inputs",
        "build_inputs_sync",
        "build_outputs",
        "build_outputs_sync",
        "guess_interface",
        "literal_string_repr",
        "load_inputs",
        "load_outputs",
        "read_inputs",
        "read_inputs_sync",
        "read_outputs",
        "read_outputs_sync",
        "translate_default_inputs",
        "translate_interface",
        "write_inputs",
        "write_outputs",
    ],
    "flyte_types.errors": [
        "InlineSizeExceededError",
        "LiteralDecodeError",
        "RestrictedTypeError",
        "TypeTransformerError",
        "TypeTransformerFailedError",
    ],
    "flyte_types.extend": [
        "ENTRY_POINT_GROUP",
        "MESSAGEPACK",
        "Filler",
        "Reader",
        "RestrictedTypeTransformer",
        "SimpleTransformer",
        "TypeTransformer",
        "describe_value",
        "load_plugins",
        "mismatch",
        "register_transformer",
    ],
    "flyte_types.testing": ["TransformerConformance", "assert_roundtrip", "roundtrip"],
    "flyte_types.io": [
        "PARQUET",
        "DataFrame",
        "Dir",
        "EmptyDir",
        "File",
        "HashFunction",
        "HashMethod",
    ],
    "flyte_types.io.extend": [
        "DataFrameDecoder",
        "DataFrameEncoder",
        "DataFrameTransformerEngine",
        "DuplicateHandlerError",
    ],
}


@pytest.mark.parametrize("module_name", sorted(EXPECTED))
def test_all_is_pinned_and_sorted(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert list(module.__all__) == sorted(EXPECTED[module_name])
    assert list(module.__all__) == sorted(module.__all__), "keep __all__ sorted"


@pytest.mark.parametrize("module_name", sorted(EXPECTED))
def test_every_exported_name_resolves(module_name: str) -> None:
    module = importlib.import_module(module_name)
    for name in module.__all__:
        assert getattr(module, name) is not None, name


@pytest.mark.parametrize("module_name", sorted(EXPECTED))
def test_no_unlisted_public_names(module_name: str) -> None:
    module = importlib.import_module(module_name)
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and (
            getattr(value, "__module__", "") == module_name
            or getattr(value, "__module__", "").startswith(module_name + "._")
        )
    }
    assert public <= set(module.__all__), f"public but unexported: {public - set(module.__all__)}"


def test_reference_names_are_available() -> None:
    """What `flyte.types` / `flyte.io` users import exists under the same names."""
    import flyte_types
    import flyte_types.io

    for name in (
        "TypeEngine",
        "TypeTransformer",
        "FlytePickle",
        "TypeTransformerFailedError",
        "Renderable",
    ):
        assert hasattr(flyte_types, name)
    for name in ("File", "Dir", "DataFrame", "EmptyDir", "HashFunction", "PARQUET"):
        assert hasattr(flyte_types.io, name)


def test_type_transformer_failed_error_is_a_type_error() -> None:
    from flyte_types.errors import TypeTransformerFailedError

    assert issubclass(TypeTransformerFailedError, TypeError)
    assert issubclass(TypeTransformerFailedError, ValueError)
    assert issubclass(TypeTransformerFailedError, AssertionError)

"""The engine: lookup order, registration, custom and restricted transformers, plugins."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
import textwrap
from pathlib import Path
from typing import Annotated, Any, Optional

import pytest
from flyteidl2.core.literals_pb2 import Literal, LiteralMap, Primitive, Scalar
from flyteidl2.core.types_pb2 import LiteralType, SimpleType

from flyte_types import TypeEngine, TypeTransformer
from flyte_types.errors import RestrictedTypeError, TypeTransformerFailedError
from flyte_types.extend import ENTRY_POINT_GROUP, load_plugins, register_transformer
from flyte_types.testing import TransformerConformance, assert_roundtrip


class Point:
    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and (other.x, other.y) == (self.x, self.y)


class PointTransformer(TypeTransformer[Point]):
    """A user transformer written against the reference's async API only."""

    def __init__(self) -> None:
        super().__init__("Point", Point)

    def get_literal_type(self, t: Any) -> LiteralType:
        return LiteralType(simple=SimpleType.STRING)

    async def to_literal(self, python_val: Any, python_type: Any, expected: LiteralType) -> Literal:
        await asyncio.sleep(0)
        return Literal(
            scalar=Scalar(primitive=Primitive(string_value=f"{python_val.x},{python_val.y}"))
        )

    async def to_python_value(self, lv: Literal, expected_python_type: Any) -> Any:
        x, y = lv.scalar.primitive.string_value.split(",")
        return Point(int(x), int(y))


register_transformer(PointTransformer())


class TestPointConformance(TransformerConformance):
    transformer = TypeEngine.get_transformer(Point)
    python_type = Point
    values = (Point(1, 2), Point(-1, 0))


def test_custom_async_transformer_in_containers() -> None:
    assert_roundtrip([Point(1, 2), Point(3, 4)], list[Point])
    assert_roundtrip({"a": Point(1, 2)}, dict[str, Point])
    assert_roundtrip(Point(5, 6), Optional[Point])


def test_custom_transformer_type_assertion() -> None:
    with pytest.raises(TypeTransformerFailedError, match="Point"):
        TypeEngine.to_literal_sync("no", Point)


def test_duplicate_registration_is_refused() -> None:
    with pytest.raises(ValueError, match="already registered"):
        TypeEngine.register(PointTransformer())


def test_annotated_transformer_instance_wins() -> None:
    class Upper(TypeTransformer[str]):
        def __init__(self) -> None:
            super().__init__("upper", str)

        def get_literal_type(self, t: Any) -> LiteralType:
            return LiteralType(simple=SimpleType.STRING)

        async def to_literal(
            self, python_val: Any, python_type: Any, expected: LiteralType
        ) -> Literal:
            return Literal(scalar=Scalar(primitive=Primitive(string_value=python_val.upper())))

        async def to_python_value(self, lv: Literal, expected_python_type: Any) -> Any:
            return lv.scalar.primitive.string_value

    tp = Annotated[str, Upper()]
    assert TypeEngine.to_python_value_sync(TypeEngine.to_literal_sync("abc", tp), tp) == "ABC"


def test_restricted_type() -> None:
    class Secret:
        pass

    TypeEngine.register_restricted_type("secret", Secret)
    with pytest.raises(RestrictedTypeError):
        TypeEngine.to_literal_type(Secret)
    with pytest.raises(RestrictedTypeError):
        TypeEngine.to_literal_sync(Secret(), Secret)


def test_lookup_order() -> None:
    import enum

    class E(str, enum.Enum):
        A = "a"

    @dataclasses.dataclass
    class D:
        x: int

    assert TypeEngine.get_transformer(int).name == "int"
    assert TypeEngine.get_transformer(E).name == "DefaultEnumTransformer"
    assert TypeEngine.get_transformer(D).name == "Object-Dataclass-Transformer"
    assert TypeEngine.get_transformer(list[int]).name == "Typed List"
    assert TypeEngine.get_transformer(list).name == "FlytePickle"
    assert TypeEngine.get_transformer(dict).name == "Typed Dict"
    assert TypeEngine.get_transformer(int | None).name == "Typed Union"
    assert TypeEngine.get_transformer(Any).name == "FlytePickle"
    assert TypeEngine.get_transformer(tuple[int, ...]).name == "FlytePickle"
    assert bool in TypeEngine.get_available_transformers()


def test_sync_api_inside_a_running_loop() -> None:
    async def main() -> Any:
        lit = TypeEngine.to_literal_sync(Point(1, 1), Point)  # needs the async path
        return TypeEngine.to_python_value_sync(lit, Point)

    assert asyncio.run(main()) == Point(1, 1)


def test_dict_to_literal_map_and_back_name_the_variable() -> None:
    lm = asyncio.run(TypeEngine.dict_to_literal_map({"a": 1, "b": [1.5]}, {"b": list[float]}))
    assert asyncio.run(TypeEngine.literal_map_to_kwargs(lm, {"a": int, "b": list[float]})) == {
        "a": 1,
        "b": [1.5],
    }
    with pytest.raises(TypeTransformerFailedError) as info:
        asyncio.run(TypeEngine.dict_to_literal_map({"count": "three"}, {"count": int}))
    message = str(info.value)
    assert "'count'" in message and "expected type int" in message and "type str" in message
    with pytest.raises(TypeTransformerFailedError, match="'a'"):
        asyncio.run(TypeEngine.literal_map_to_kwargs(lm, {"a": str, "b": list[float]}))
    with pytest.raises(ValueError, match="more input values"):
        asyncio.run(TypeEngine.literal_map_to_kwargs(lm, {"a": int}))


def test_literal_map_to_kwargs_with_guessed_types() -> None:
    from flyteidl2.core import interface_pb2

    lm = LiteralMap(literals={"x": TypeEngine.to_literal_sync([1], list[int])})
    variables = {"x": interface_pb2.Variable(type=TypeEngine.to_literal_type(list[int]))}
    assert asyncio.run(TypeEngine.literal_map_to_kwargs(lm, literal_types=variables)) == {"x": [1]}


def test_offloaded_literal_is_fetched(tmp_path: Path) -> None:
    inner = TypeEngine.to_literal_sync([1, 2], list[int])
    path = tmp_path / "lit.pb"
    path.write_bytes(inner.SerializeToString())
    outer = Literal()
    outer.offloaded_metadata.uri = str(path)
    assert TypeEngine.to_python_value_sync(outer, list[int]) == [1, 2]


def test_named_tuple_to_variable_map() -> None:
    from typing import NamedTuple

    class Out(NamedTuple):
        a: int
        b: str

    vm = TypeEngine.named_tuple_to_variable_map(Out)
    assert [(v.key, v.value.description) for v in vm.variables] == [("a", "0"), ("b", "1")]


def test_to_html() -> None:
    class Bold:
        def to_html(self, value: Any) -> str:
            return f"<b>{value}</b>"

    assert TypeEngine.to_html(3, int) == "3"
    assert TypeEngine.to_html(3, Annotated[int, Bold()]) == "<b>3</b>"


def test_to_literal_checks() -> None:
    with pytest.raises(TypeTransformerFailedError, match="Untyped tuples"):
        TypeEngine.to_literal_checks((1, 2), tuple, TypeEngine.to_literal_type(int))
    with pytest.raises(TypeTransformerFailedError, match="None"):
        TypeEngine.to_literal_checks(None, int, TypeEngine.to_literal_type(int))


def test_entry_point_plugins_are_loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "fake_plugin.py"
    pkg.write_text(
        textwrap.dedent(
            """
            from flyte_types.extend import SimpleTransformer, register_transformer
            from flyteidl2.core.types_pb2 import LiteralType, SimpleType

            class Celsius(float):
                pass

            def fill(v, lit):
                lit.scalar.primitive.float_value = float(v)

            def read(lit):
                return Celsius(lit.scalar.primitive.float_value)

            def register():
                register_transformer(
                    SimpleTransformer("celsius", Celsius, LiteralType(simple=SimpleType.FLOAT), fill, read)
                )
            """
        )
    )
    dist = tmp_path / "fake_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\ncelsius = fake_plugin:register\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert load_plugins() == ["celsius"]
    assert load_plugins() == [], "each entry point loads once"
    celsius = sys.modules["fake_plugin"].Celsius
    assert TypeEngine.get_transformer(celsius).name == "celsius"
    assert (
        TypeEngine.to_python_value_sync(TypeEngine.to_literal_sync(celsius(21.5), celsius), celsius)
        == 21.5
    )


def test_broken_plugins_are_logged_not_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    dist = tmp_path / "broken-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: broken\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\nbroken = no_such_module:x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert load_plugins() == []
    assert any("broken" in r.message for r in caplog.records)

"""Containers: `list[T]`, `dict[str, T]` / `dict[K, T]` / `dict`, and unions.

Wire format (identical to the reference SDK):

* `list[T]`: `LiteralType(collection_type=<T>)`, `Literal(collection{literals})`.
* `dict[str, T]`: `LiteralType(map_value_type=<T>)`, `Literal(map{literals})`.
* `dict[int, T]`, other key types, and untyped `dict`: `LiteralType(simple: STRUCT, annotation=
  cache-key-metadata)`, `Literal(scalar.binary{tag: "msgpack"})` in the `_msgpack` dialect.
* `A | B`, `Union[A, B]`, `Optional[A]`: `LiteralType(union_type{variants})` where every variant
  carries `structure.tag` = the name of its transformer; a value is
  `scalar.union{value, type}` with `type` = the chosen variant (tagged).

Element conversions reuse the element type's compiled filler/reader, so a container of scalars is
converted in one tight loop; containers of I/O types (files, dataframes) fall back to `async`
conversion of their elements, a bounded number at a time.
"""

from __future__ import annotations

import asyncio
import json
import typing
from collections.abc import Awaitable, Iterable
from typing import Any

import msgpack
from flyteidl2.core.literals_pb2 import Literal
from flyteidl2.core.types_pb2 import LiteralType, SimpleType, TypeStructure, UnionType
from google.protobuf import json_format

from flyte_types._dataclass import cache_key_annotation
from flyte_types._msgpack import decoder_for, encoder_for
from flyte_types._transformer import MESSAGEPACK, Filler, Reader, TypeTransformer, mismatch
from flyte_types._typing import NoneType, is_class, is_union, strip_annotated, type_name
from flyte_types.errors import LiteralDecodeError, TypeTransformerFailedError

__all__ = [
    "DictTransformer",
    "ListTransformer",
    "UnionTransformer",
    "castable",
    "gather_bounded",
]

_CONCURRENCY = 32


async def gather_bounded(coros: Iterable[Awaitable[Any]], limit: int = _CONCURRENCY) -> list[Any]:
    """Await coroutines with at most `limit` running at once; results keep the input order."""
    sem = asyncio.Semaphore(limit)

    async def run(c: Awaitable[Any]) -> Any:
        async with sem:
            return await c

    return list(await asyncio.gather(*(run(c) for c in coros)))


def _engine() -> Any:
    from flyte_types._engine import TypeEngine

    return TypeEngine


# ---------------------------------------------------------------------------------------------- #
# list


def list_item_type(t: Any) -> Any:
    """Return `T` of `list[T]` (through `Annotated`)."""
    bare, _ = strip_annotated(t)
    args = typing.get_args(bare)
    if typing.get_origin(bare) is not list or len(args) != 1:
        raise TypeTransformerFailedError(
            f"Only generic univariate list[T] types are supported, got {type_name(t)}"
        )
    return args[0]


class ListTransformer(TypeTransformer[list]):  # type: ignore[type-arg]
    """`list[T]`."""

    def __init__(self) -> None:
        super().__init__("Typed List", list)

    def assert_type(self, t: Any, v: Any) -> None:
        """Validation happens during conversion."""

    def get_literal_type(self, t: Any) -> LiteralType:
        """Return `collection_type` of the item type."""
        item = _engine()._plan(list_item_type(t))
        return LiteralType(collection_type=item.literal_type)

    def make_filler(self, python_type: Any) -> Filler | None:
        """Fill `collection.literals` with one filler call per item."""
        item_type = list_item_type(python_type)
        item_fill = _engine()._plan(item_type).filler
        if item_fill is None:
            return None

        def fill(v: Any, lit: Literal) -> None:
            if not isinstance(v, list):
                raise mismatch(python_type, v)
            coll = lit.collection
            coll.SetInParent()
            add = coll.literals.add
            for x in v:
                item_fill(x, add())

        return fill

    def make_reader(self, python_type: Any) -> Reader | None:
        """Read every item of `collection.literals`."""
        item_type = list_item_type(python_type)
        item_read = _engine()._plan(item_type).reader
        if item_read is None:
            return None

        def read(lit: Literal) -> Any:
            if lit.HasField("collection"):
                return [item_read(x) for x in lit.collection.literals]
            return _read_list_fallback(lit, python_type)

        return read

    async def to_literal(self, python_val: Any, python_type: Any, expected: LiteralType) -> Literal:
        """Convert the items concurrently (used when items need I/O)."""
        fill = self.make_filler(python_type)
        if fill is not None:
            lit = Literal()
            fill(python_val, lit)
            return lit
        if not isinstance(python_val, list):
            raise mismatch(python_type, python_val)
        item = _engine()._plan(list_item_type(python_type))
        items = await gather_bounded(item.encode(x) for x in python_val)
        lit = Literal()
        lit.collection.SetInParent()
        lit.collection.literals.extend(items)
        return lit

    async def to_python_value(self, lv: Literal, expected_python_type: Any) -> Any:
        """Convert the items concurrently (used when items need I/O)."""
        read = self.make_reader(expected_python_type)
        if read is not None:
            return read(lv)
        if not lv.HasField("collection"):
            return _read_list_fallback(lv, expected_python_type)
        item = _engine()._plan(list_item_type(expected_python_type))
        return await gather_bounded(item.decode(x) for x in lv.collection.literals)

    def guess_python_type(self, literal_type: LiteralType) -> Any:
        """`collection_type` reverses to `list[...]`."""
        if literal_type.HasField("collection_type"):
            return list[_engine().guess_python_type(literal_type.collection_type)]  # type: ignore[misc]
        raise ValueError(f"List transformer cannot reverse {literal_type}")


def _read_list_fallback(lit: Literal, python_type: Any) -> Any:
    if lit.scalar.HasField("binary") and lit.scalar.binary.tag == MESSAGEPACK:
        return _msgpack_value(lit, python_type)
    raise LiteralDecodeError(
        f"The expected python type is '{type_name(python_type)}' but the received literal is "
        f"{lit.WhichOneof('value') or 'empty'}, not a collection"
    )


def _msgpack_value(lit: Literal, python_type: Any) -> Any:
    try:
        data = msgpack.unpackb(lit.scalar.binary.value, strict_map_key=False)
    except Exception as e:
        raise LiteralDecodeError(
            f"Corrupt msgpack payload for {type_name(python_type)}: {e}"
        ) from e
    return decoder_for(python_type)(data)


# ---------------------------------------------------------------------------------------------- #
# dict


def dict_types(t: Any) -> tuple[Any, Any]:
    """Return `(K, V)` of `dict[K, V]`, or `(None, None)` for an untyped dict."""
    bare, _ = strip_annotated(t)
    args = typing.get_args(bare)
    if len(args) == 2:
        return args[0], args[1]
    return None, None


class DictTransformer(TypeTransformer[dict]):  # type: ignore[type-arg]
    """`dict[str, T]` (a literal map), and other dicts (msgpack binaries)."""

    def __init__(self) -> None:
        super().__init__("Typed Dict", dict)

    def assert_type(self, t: Any, v: Any) -> None:
        """Validation happens during conversion."""

    def get_literal_type(self, t: Any) -> LiteralType:
        """Return `map_value_type` for `str` keys, else the msgpack STRUCT type."""
        key, value = dict_types(t)
        if key is str:
            return LiteralType(map_value_type=_engine()._plan(value).literal_type)
        return LiteralType(simple=SimpleType.STRUCT, annotation=cache_key_annotation())

    def make_filler(self, python_type: Any) -> Filler | None:
        """Fill `map.literals`, or encode the whole dict with msgpack."""
        key, value = dict_types(python_type)
        if key is not str:
            encode = encoder_for(python_type)
            packb = msgpack.packb

            def fill_struct(v: Any, lit: Literal) -> None:
                if type(v) is not dict:  # noqa: E721 - exact type check on the hot path
                    raise mismatch(python_type, v)
                try:
                    data = packb(encode(v))
                except (TypeError, ValueError, OverflowError, AttributeError) as e:
                    raise mismatch(python_type, v, f"cannot be encoded: {e}") from e
                b = lit.scalar.binary
                b.value = data
                b.tag = MESSAGEPACK

            return fill_struct
        value_fill = _engine()._plan(value).filler
        if value_fill is None:
            return None

        def fill(v: Any, lit: Literal) -> None:
            if type(v) is not dict:  # noqa: E721 - exact type check on the hot path
                raise mismatch(python_type, v)
            m = lit.map
            m.SetInParent()
            literals = m.literals
            for k, x in v.items():
                if type(k) is not str:  # noqa: E721 - exact type check on the hot path
                    raise mismatch(python_type, v, f"key {k!r} is not a str")
                value_fill(x, literals[k])

        return fill

    def make_reader(self, python_type: Any) -> Reader | None:
        """Read `map.literals`, or a msgpack binary / UI JSON struct."""
        key, value = dict_types(python_type)
        value_read = _engine()._plan(value).reader if key is str else None
        if key is str and value_read is None:
            return None

        def read(lit: Literal) -> Any:
            if lit.HasField("map"):
                if value_read is None:
                    raise LiteralDecodeError(
                        f"Cannot convert a literal map to {type_name(python_type)}: "
                        "the dict type must be dict[str, T]"
                    )
                return {k: value_read(x) for k, x in lit.map.literals.items()}
            return _read_dict_fallback(lit, python_type)

        return read

    async def to_literal(self, python_val: Any, python_type: Any, expected: LiteralType) -> Literal:
        """Convert the values concurrently (used when values need I/O)."""
        fill = self.make_filler(python_type)
        if fill is not None:
            lit = Literal()
            fill(python_val, lit)
            return lit
        if type(python_val) is not dict:  # noqa: E721 - exact type check on the hot path
            raise mismatch(python_type, python_val)
        _, value = dict_types(python_type)
        plan = _engine()._plan(value)
        for k in python_val:
            if type(k) is not str:  # noqa: E721 - exact type check on the hot path
                raise mismatch(python_type, python_val, f"key {k!r} is not a str")
        values = await gather_bounded(plan.encode(x) for x in python_val.values())
        lit = Literal()
        lit.map.SetInParent()
        for k, item in zip(python_val, values, strict=False):
            lit.map.literals[k].CopyFrom(item)
        return lit

    async def to_python_value(self, lv: Literal, expected_python_type: Any) -> Any:
        """Convert the values concurrently (used when values need I/O)."""
        read = self.make_reader(expected_python_type)
        if read is not None:
            return read(lv)
        if not lv.HasField("map"):
            return _read_dict_fallback(lv, expected_python_type)
        _, value = dict_types(expected_python_type)
        plan = _engine()._plan(value)
        keys = list(lv.map.literals.keys())
        values = await gather_bounded(plan.decode(lv.map.literals[k]) for k in keys)
        return dict(zip(keys, values, strict=False))

    def guess_python_type(self, literal_type: LiteralType) -> Any:
        """`map_value_type` reverses to `dict[str, ...]`, a bare STRUCT to `dict`."""
        if literal_type.HasField("map_value_type"):
            return dict[str, _engine().guess_python_type(literal_type.map_value_type)]  # type: ignore[misc]
        if literal_type.simple == SimpleType.STRUCT and not literal_type.HasField("metadata"):
            return dict
        raise ValueError(f"Dictionary transformer cannot reverse {literal_type}")


def _read_dict_fallback(lit: Literal, python_type: Any) -> Any:
    scalar = lit.scalar
    if scalar.HasField("binary"):
        if scalar.binary.tag != MESSAGEPACK:
            raise LiteralDecodeError(f"Unsupported binary format `{scalar.binary.tag}`")
        return _msgpack_value(lit, python_type)
    if scalar.HasField("generic"):
        data = json.loads(json_format.MessageToJson(scalar.generic))
        return decoder_for(python_type)(data)
    raise LiteralDecodeError(
        f"Cannot convert a {lit.WhichOneof('value') or 'empty'} literal to {type_name(python_type)}"
    )


# ---------------------------------------------------------------------------------------------- #
# unions


def _essence(lt: LiteralType) -> LiteralType:
    if lt.HasField("metadata") or lt.HasField("structure") or lt.HasField("annotation"):
        out = LiteralType()
        out.CopyFrom(lt)
        out.ClearField("metadata")
        out.ClearField("structure")
        out.ClearField("annotation")
        return out
    return lt


def castable(upstream: LiteralType, downstream: LiteralType) -> bool:
    """Return whether a value of literal type `upstream` can be read as `downstream`."""
    if upstream.HasField("union_type"):
        return all(castable(v, downstream) for v in upstream.union_type.variants)
    if downstream.HasField("union_type"):
        return any(castable(upstream, v) for v in downstream.union_type.variants)
    if upstream.HasField("collection_type"):
        return downstream.HasField("collection_type") and castable(
            upstream.collection_type, downstream.collection_type
        )
    if upstream.HasField("map_value_type"):
        return downstream.HasField("map_value_type") and castable(
            upstream.map_value_type, downstream.map_value_type
        )
    if upstream.HasField("structured_dataset_type"):
        if not downstream.HasField("structured_dataset_type"):
            return False
        u, d = upstream.structured_dataset_type, downstream.structured_dataset_type
        return (
            u.format == d.format
            and u.external_schema_type == d.external_schema_type
            and u.external_schema_bytes == d.external_schema_bytes
            and len(u.columns) == len(d.columns)
            and all(
                a.name == b.name and castable(a.literal_type, b.literal_type)
                for a, b in zip(u.columns, d.columns, strict=False)
            )
        )
    if upstream.HasField("enum_type") and downstream.simple == SimpleType.STRING:
        return True
    return _essence(upstream) == _essence(downstream)


def tag_type(lt: LiteralType, tag: str) -> LiteralType:
    """Return a copy of `lt` with `structure.tag` set."""
    out = LiteralType()
    out.CopyFrom(lt)
    out.structure.CopyFrom(TypeStructure(tag=tag))
    return out


class _Variant:
    __slots__ = ("plan", "python_type", "tag", "value_type", "variant_type")

    def __init__(self, python_type: Any) -> None:
        engine = _engine()
        self.python_type = python_type
        self.plan = engine._plan(python_type)
        self.tag = self.plan.transformer.name
        # what the union literal records as its type: the transformer's own literal type
        self.value_type = tag_type(self.plan.transformer.get_literal_type(python_type), self.tag)
        # what the union LiteralType lists (includes pydantic Field metadata of Annotated members)
        self.variant_type = tag_type(self.plan.literal_type, self.tag)


def _exact_class(tp: Any) -> Any:
    if tp is None or tp is NoneType:
        return NoneType
    if is_class(tp) and not typing.get_args(tp):
        return tp
    return None


class _UnionPlan:
    def __init__(self, python_type: Any) -> None:
        bare, _ = strip_annotated(python_type)
        self.python_type = bare
        self.variants = [_Variant(a) for a in typing.get_args(bare)]
        self.exact: dict[Any, int] = {}
        for i, v in enumerate(self.variants):
            klass = _exact_class(v.python_type)
            if klass is not None and klass not in self.exact:
                self.exact[klass] = i

    def ambiguous(self, names: list[str]) -> TypeError:
        return TypeError(
            f"Ambiguous choice of variant for union type {type_name(self.python_type)}: the value "
            f"matches {', '.join(names)}. These types are structurally the same; pass a value of "
            "one specific type."
        )

    def candidates(self, lit: Literal) -> tuple[LiteralType | None, list[_Variant]]:
        """For a union literal, the variants its tag and type allow, best first."""
        if not lit.scalar.HasField("union"):
            return None, self.variants
        union = lit.scalar.union
        tag = union.type.structure.tag if union.type.HasField("structure") else ""
        tagged = [v for v in self.variants if not tag or v.tag == tag]
        fits = [v for v in tagged if castable(union.type, v.variant_type)]
        if len(fits) > 1:
            essence = _essence(union.type)
            exact = [
                v
                for v in fits
                if v.value_type == union.type
                or _essence(v.value_type) == essence
                and v.value_type.metadata == union.type.metadata
            ]
            if exact:
                fits = exact
        return union.value, fits or tagged


class UnionTransformer(TypeTransformer[Any]):
    """`Union[...]`, `Optional[...]` and `A | B`."""

    def __init__(self) -> None:
        super().__init__("Typed Union", typing.Union)  # type: ignore[arg-type]
        self._plans: dict[Any, _UnionPlan] = {}

    def _union(self, t: Any) -> _UnionPlan:
        try:
            plan = self._plans.get(t)
        except TypeError:
            return _UnionPlan(t)
        if plan is None:
            plan = _UnionPlan(t)
            self._plans[t] = plan
        return plan

    def assert_type(self, t: Any, v: Any) -> None:
        """Validation happens during conversion."""

    def get_literal_type(self, t: Any) -> LiteralType:
        """Return `union_type` with every member's literal type, tagged."""
        bare, _ = strip_annotated(t)
        if not is_union(bare):
            raise TypeTransformerFailedError(f"{t} is not a union")
        plan = self._union(bare)
        return LiteralType(union_type=UnionType(variants=[v.variant_type for v in plan.variants]))

    def make_filler(self, python_type: Any) -> Filler | None:
        """Pick the member (exact class first, else the only member accepting the value)."""
        plan = self._union(python_type)
        fills = [v.plan.filler for v in plan.variants]
        if any(f is None for f in fills):
            return None
        variants = plan.variants
        exact = plan.exact

        def fill(v: Any, lit: Literal) -> None:
            idx = exact.get(type(v))
            union = lit.scalar.union
            if idx is not None:
                fills[idx](v, union.value)  # type: ignore[misc]
                union.type.CopyFrom(variants[idx].value_type)
                return
            found: tuple[_Variant, Literal] | None = None
            names = []
            for variant, f in zip(variants, fills, strict=False):
                tmp = Literal()
                try:
                    f(v, tmp)  # type: ignore[misc]
                except Exception:
                    continue
                names.append(type_name(variant.python_type))
                if found is None:
                    found = (variant, tmp)
            if found is None:
                raise mismatch(plan.python_type, v)
            if len(names) > 1:
                raise plan.ambiguous(names)
            union.value.CopyFrom(found[1])
            union.type.CopyFrom(found[0].value_type)

        return fill

    def make_reader(self, python_type: Any) -> Reader | None:
        """Use the union tag (and literal type) to pick the member to decode with."""
        plan = self._union(python_type)
        if any(v.plan.reader is None for v in plan.variants):
            return None

        def read(lit: Literal) -> Any:
            value, candidates = plan.candidates(lit)
            target = lit if value is None else value
            if len(candidates) == 1:
                return candidates[0].plan.reader(target)  # type: ignore[misc]
            results = []
            for variant in candidates:
                try:
                    results.append((variant, variant.plan.reader(target)))  # type: ignore[misc]
                except Exception:
                    continue
            if len(results) == 1:
                return results[0][1]
            if results:
                raise plan.ambiguous([type_name(v.python_type) for v, _ in results])
            raise LiteralDecodeError(
                f"Cannot convert {lit.WhichOneof('value') or 'an empty'} literal to "
                f"{type_name(plan.python_type)}"
            )

        return read

    async def to_literal(self, python_val: Any, python_type: Any, expected: LiteralType) -> Literal:
        """As the filler, awaiting members that need I/O."""
        fill = self.make_filler(python_type)
        lit = Literal()
        if fill is not None:
            fill(python_val, lit)
            return lit
        plan = self._union(python_type)
        idx = plan.exact.get(type(python_val))
        order = [plan.variants[idx]] if idx is not None else plan.variants
        found: list[tuple[_Variant, Literal]] = []
        last: Exception | None = None
        for variant in order:
            try:
                found.append((variant, await variant.plan.encode(python_val)))
            except Exception as e:
                last = e
                continue
        if not found:
            raise mismatch(plan.python_type, python_val) from last
        if len(found) > 1:
            raise plan.ambiguous([type_name(v.python_type) for v, _ in found])
        variant, value = found[0]
        lit.scalar.union.value.CopyFrom(value)
        lit.scalar.union.type.CopyFrom(variant.value_type)
        return lit

    async def to_python_value(self, lv: Literal, expected_python_type: Any) -> Any:
        """As the reader, awaiting members that need I/O."""
        read = self.make_reader(expected_python_type)
        if read is not None:
            return read(lv)
        plan = self._union(expected_python_type)
        value, candidates = plan.candidates(lv)
        target = lv if value is None else value
        if len(candidates) == 1:
            return await candidates[0].plan.decode(target)
        results = []
        for variant in candidates:
            try:
                results.append((variant, await variant.plan.decode(target)))
            except Exception:
                continue
        if len(results) == 1:
            return results[0][1]
        if results:
            raise plan.ambiguous([type_name(v.python_type) for v, _ in results])
        raise LiteralDecodeError(f"Cannot convert literal to {type_name(plan.python_type)}")

    def guess_python_type(self, literal_type: LiteralType) -> Any:
        """`union_type` reverses to `Union[...]` of the guessed members."""
        if literal_type.HasField("union_type"):
            engine = _engine()
            members = tuple(engine.guess_python_type(v) for v in literal_type.union_type.variants)
            return typing.Union[members]
        raise ValueError(f"Union transformer cannot reverse {literal_type}")

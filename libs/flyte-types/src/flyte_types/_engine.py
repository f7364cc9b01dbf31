"""The `TypeEngine`: the registry of transformers, and conversions between values and literals.

For every Python type the engine builds a *plan* once — the transformer that owns the type, its
literal type, and (for types whose conversion never does I/O) a compiled synchronous filler and
reader — and caches it. Converting a value is then a dictionary lookup and a function call; a
`list[int]` of a million values is one loop in the list's filler. Types that need I/O (files,
directories, dataframes, large pickles) go through the transformers' `async` methods.

Lookup order for a Python type (the reference SDK's, so the same type picks the same transformer):

1. `Annotated[X, ...]`: a `TypeTransformer` instance among the metadata, else the transformer of `X`;
2. `Enum` subclasses, `Literal[...]` of strings, `NamedTuple`, `tuple[A, B]`, `TypedDict`;
3. exact registrations (also for generic aliases such as `list[int]`), then the alias origin
   (`list`, `dict`), unions;
4. registrations of a base class (MRO); pydantic models; dataclasses;
5. cloudpickle, with a warning logged once per type.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import dataclasses
import enum
import logging
import sys
import threading
import typing
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from flyteidl2.core import interface_pb2
from flyteidl2.core.literals_pb2 import Literal, LiteralMap
from flyteidl2.core.types_pb2 import LiteralType

from flyte_types._builtins import default_simple_transformers
from flyte_types._containers import DictTransformer, ListTransformer, UnionTransformer
from flyte_types._dataclass import DataclassTransformer
from flyte_types._enum import EnumTransformer, LiteralTransformer, literal_string_values
from flyte_types._pickle import BytesTransformer, FlytePickleTransformer, warn_pickle_once
from flyte_types._protobuf import ProtobufTransformer
from flyte_types._transformer import Filler, Reader, RestrictedTypeTransformer, TypeTransformer
from flyte_types._typing import (
    NoneType,
    dataclass_class,
    is_annotated,
    is_class,
    is_literal,
    is_named_tuple,
    is_pydantic_model,
    is_typed_dict,
    is_typed_tuple,
    is_union,
    strip_annotated,
    type_name,
)
from flyte_types.errors import LiteralDecodeError, TypeTransformerFailedError

__all__ = [
    "ENTRY_POINT_GROUP",
    "TypeEngine",
    "run_sync",
]

T = TypeVar("T")

logger = logging.getLogger("flyte_types")

ENTRY_POINT_GROUP = "flyte.plugins.types"
"""Entry point group scanned for third-party transformers (the reference SDK's group name)."""

_PYDANTIC_TAG = "Pydantic Transformer"


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from synchronous code.

    With no event loop running in this thread it runs on the SDK's shared background loop
    (`flyte_models.run_sync`, which copies the caller's context): a third of the cost of a fresh
    `asyncio.run` per call, and loop-bound clients (signed-URL sessions) are reused across calls.
    Called from inside a running loop, where blocking on that loop could deadlock, it runs on a
    private thread with a copy of the current context, so the task context stays visible.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        from flyte_models import run_sync as run_on_sdk_loop

        return run_on_sdk_loop(coro)
    ctx = contextvars.copy_context()
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="flyte_types") as pool:
        return pool.submit(ctx.run, asyncio.run, coro).result()


class _Plan:
    """Everything needed to convert values of one Python type, computed once."""

    __slots__ = ("_lt", "filler", "python_type", "reader", "transformer")

    def __init__(
        self,
        python_type: Any,
        transformer: TypeTransformer[Any],
        filler: Filler | None,
        reader: Reader | None,
    ) -> None:
        self.python_type = python_type
        self.transformer = transformer
        self.filler = filler
        self.reader = reader
        self._lt: LiteralType | None = None

    @property
    def literal_type(self) -> LiteralType:
        """The literal type (shared: never mutate it)."""
        lt = self._lt
        if lt is None:
            lt = TypeEngine._compute_literal_type(self.python_type, self.transformer)
            self._lt = lt
        return lt

    async def encode(self, value: Any, expected: LiteralType | None = None) -> Literal:
        if self.filler is not None:
            lit = Literal()
            self.filler(value, lit)
            return lit
        t = self.transformer
        if t.type_assertions_enabled:
            t.assert_type(self.python_type, value)
        return await t.to_literal(value, self.python_type, expected or self.literal_type)

    async def decode(self, lit: Literal) -> Any:
        if lit.HasField("offloaded_metadata"):
            lit = await TypeEngine.unwrap_offloaded_literal(lit)
        if self.reader is not None:
            return self.reader(lit)
        return await self.transformer.to_python_value(lit, self.python_type)


def _wrap_error(
    e: BaseException, what: str, name: str, python_type: Any, value: Any = None
) -> Exception:
    """Re-raise a conversion error naming the parameter (input or output) it was for."""
    kind = type(e) if isinstance(e, TypeTransformerFailedError) else TypeTransformerFailedError
    received = "" if value is None else f"; received a value of type {type_name(type(value))}"
    return kind(
        f"Failed to convert {what} '{name}' (expected type {type_name(python_type)}{received}): {e}"
    )


class TypeEngine:
    """The extensible registry of transformers, and the entry point of every conversion.

    All methods are class methods; the registry is process-wide. Conversions are `async`
    (`to_literal`, `to_python_value`) with `_sync` twins for synchronous callers.

    Example:
        ```python
        from flyte_types import TypeEngine

        lt = TypeEngine.to_literal_type(list[int])
        lit = await TypeEngine.to_literal([1, 2, 3], list[int], lt)
        assert await TypeEngine.to_python_value(lit, list[int]) == [1, 2, 3]
        ```
    """

    _REGISTRY: ClassVar[dict[Any, TypeTransformer[Any]]] = {}
    _RESTRICTED_TYPES: ClassVar[list[Any]] = []
    _PLANS: ClassVar[dict[Any, _Plan]] = {}
    _DATACLASS_TRANSFORMER: ClassVar[TypeTransformer[Any]] = DataclassTransformer()
    _ENUM_TRANSFORMER: ClassVar[TypeTransformer[Any]] = EnumTransformer()
    _LITERAL_TRANSFORMER: ClassVar[TypeTransformer[Any]] = LiteralTransformer()
    _PICKLE_TRANSFORMER: ClassVar[TypeTransformer[Any]] = FlytePickleTransformer()
    _pydantic: ClassVar[dict[str, TypeTransformer[Any]] | None] = None
    _plugins_state: ClassVar[str] = "pending"  # pending -> loading -> done
    lazy_import_lock: ClassVar[threading.RLock] = threading.RLock()

    # ------------------------------------------------------------------------------------------ #
    # Registration

    @classmethod
    def register(
        cls, transformer: TypeTransformer[Any], additional_types: Sequence[Any] | None = None
    ) -> None:
        """Register a transformer for its `python_type` (and `additional_types`).

        Raises:
            ValueError: If a transformer is already registered for one of the types.
        """
        types_ = [transformer.python_type, *(additional_types or [])]
        for t in types_:
            if t in cls._REGISTRY:
                existing = cls._REGISTRY[t]
                raise ValueError(
                    f"Transformer {existing.name} for type {t} is already registered."
                    f" Cannot override with {transformer.name}"
                )
        for t in types_:
            cls._REGISTRY[t] = transformer
        cls._invalidate()

    @classmethod
    def register_restricted_type(cls, name: str, type: Any) -> None:  # - reference name
        """Forbid values of `type` from crossing task boundaries (conversions raise)."""
        cls._RESTRICTED_TYPES.append(type)
        cls.register(RestrictedTypeTransformer(name, type))

    @classmethod
    def register_additional_type(
        cls, transformer: TypeTransformer[Any], additional_type: Any, override: bool = False
    ) -> None:
        """Also use `transformer` for `additional_type` (replacing an existing one if `override`)."""
        if additional_type not in cls._REGISTRY or override:
            cls._REGISTRY[additional_type] = transformer
            cls._invalidate()

    @classmethod
    def _invalidate(cls) -> None:
        cls._PLANS.clear()
        for t in {*cls._REGISTRY.values(), *(cls._pydantic or {}).values()}:
            plans = getattr(t, "_plans", None)
            if isinstance(plans, dict):
                plans.clear()

    @classmethod
    def get_available_transformers(cls) -> typing.KeysView[Any]:
        """Return the Python types that have a registered transformer."""
        return cls._REGISTRY.keys()

    @classmethod
    def lazy_import_transformers(cls) -> None:
        """Load third-party transformers from the `flyte.plugins.types` entry points (once)."""
        if cls._plugins_state != "pending":
            return
        with cls.lazy_import_lock:
            if cls._plugins_state != "pending":
                return
            cls._plugins_state = "loading"
            try:
                from flyte_types.extend import load_plugins

                load_plugins()
            finally:
                cls._plugins_state = "done"

    @classmethod
    def _pydantic_transformers(cls) -> dict[str, TypeTransformer[Any]]:
        if cls._pydantic is None:
            with cls.lazy_import_lock:
                if cls._pydantic is None:
                    from flyte_types import _pydantic

                    cls._pydantic = {
                        "model": _pydantic.PydanticTransformer(),
                        "tuple": _pydantic.TupleTransformer(),
                        "namedtuple": _pydantic.NamedTupleTransformer(),
                        "typeddict": _pydantic.TypedDictTransformer(),
                    }
        return cls._pydantic

    # ------------------------------------------------------------------------------------------ #
    # Lookup

    @classmethod
    def get_transformer(cls, python_type: Any) -> TypeTransformer[Any]:
        """Return the transformer that owns `python_type` (cloudpickle as the last resort)."""
        cls.lazy_import_transformers()
        found = cls._find(python_type)
        if found is not None:
            return found
        if _maybe_dataframe(python_type):
            from flyte_types.io import _dataframe

            _dataframe.ensure_handlers()
            found = cls._find(python_type)
            if found is not None:
                return found
        warn_pickle_once(python_type)
        return cls._PICKLE_TRANSFORMER

    @classmethod
    def _find(cls, python_type: Any) -> TypeTransformer[Any] | None:  # - the order is the spec
        if is_annotated(python_type):
            args = typing.get_args(python_type)
            for meta in args[1:]:
                if isinstance(meta, TypeTransformer):
                    return meta
            return cls._find(args[0])
        if python_type is None:
            python_type = NoneType
        registry = cls._REGISTRY
        if is_class(python_type):
            found = registry.get(python_type)
            if found is not None and not isinstance(found, DictTransformer | ListTransformer):
                return found
            if issubclass(python_type, enum.Enum):
                return cls._ENUM_TRANSFORMER
            if is_named_tuple(python_type):
                return cls._pydantic_transformers()["namedtuple"]
            if is_typed_dict(python_type):
                return cls._pydantic_transformers()["typeddict"]
            if python_type is list:  # an untyped list is pickled, like the reference
                return None
            if found is not None:
                return found
            for base in python_type.__mro__[1:]:
                found = registry.get(base)
                if found is not None:
                    if isinstance(found, ListTransformer):
                        return None
                    return found
            if is_pydantic_model(python_type):
                return cls._pydantic_transformers()["model"]
            if dataclasses.is_dataclass(python_type):
                return cls._DATACLASS_TRANSFORMER
            return None
        if is_literal(python_type):
            return cls._LITERAL_TRANSFORMER if literal_string_values(python_type) else None
        if is_union(python_type):
            return registry.get(typing.Union)
        if is_typed_tuple(python_type):
            return cls._pydantic_transformers()["tuple"]
        origin = typing.get_origin(python_type)
        if origin is not None:
            try:
                found = registry.get(python_type)
            except TypeError:
                found = None
            if found is not None:
                return found
            found = registry.get(origin)
            if found is not None:
                return found
            if is_class(origin):
                if is_pydantic_model(origin):
                    return cls._pydantic_transformers()["model"]
                if dataclass_class(python_type) is not None:
                    return cls._DATACLASS_TRANSFORMER
                for base in origin.__mro__[1:]:
                    found = registry.get(base)
                    if found is not None and not isinstance(
                        found, ListTransformer | DictTransformer
                    ):
                        return found
        return None

    @classmethod
    def _plan(cls, python_type: Any) -> _Plan:
        try:
            return cls._PLANS[python_type]
        except KeyError:
            pass
        except TypeError:  # unhashable annotation (e.g. Annotated with a dict)
            return cls._build_plan(python_type)
        plan = cls._build_plan(python_type)
        cls._PLANS[python_type] = plan
        return plan

    @classmethod
    def _build_plan(cls, python_type: Any) -> _Plan:
        transformer = cls.get_transformer(python_type)
        return _Plan(
            python_type,
            transformer,
            transformer.make_filler(python_type),
            transformer.make_reader(python_type),
        )

    # ------------------------------------------------------------------------------------------ #
    # Types

    @classmethod
    def _compute_literal_type(
        cls, python_type: Any, transformer: TypeTransformer[Any]
    ) -> LiteralType:
        lt = transformer.get_literal_type(python_type)
        _, meta = strip_annotated(python_type)
        if meta and any(
            type(m).__module__.split(".")[0] in ("pydantic", "annotated_types") for m in meta
        ):
            from flyte_types._pydantic import annotated_schema_extras

            extras = annotated_schema_extras(python_type)
            if extras:
                copy = LiteralType()
                copy.CopyFrom(lt)
                copy.metadata.update(extras)
                lt = copy
        return lt

    @classmethod
    def to_literal_type(cls, python_type: Any) -> LiteralType:
        """Describe a Python type as a flyteidl2 `LiteralType` (a fresh copy, safe to mutate)."""
        out = LiteralType()
        out.CopyFrom(cls._plan(python_type).literal_type)
        return out

    @classmethod
    def guess_python_type(cls, flyte_type: LiteralType) -> Any:
        """Return a Python type for a `LiteralType` (rebuilding dataclasses/models from schemas).

        Raises:
            ValueError: If no transformer recognises the literal type.
        """
        cls.lazy_import_transformers()
        if flyte_type.HasField("blob") or flyte_type.HasField("structured_dataset_type"):
            import flyte_types.io  # noqa: F401 - registers File, Dir and DataFrame
        tag = flyte_type.structure.tag if flyte_type.HasField("structure") else ""
        candidates: list[TypeTransformer[Any]] = []
        if tag == _PYDANTIC_TAG:
            p = cls._pydantic_transformers()
            candidates += [p["tuple"], p["namedtuple"], p["typeddict"], p["model"]]
        elif tag:
            candidates += [t for t in cls._REGISTRY.values() if t.name == tag]
            if tag == cls._DATACLASS_TRANSFORMER.name:
                candidates.append(cls._DATACLASS_TRANSFORMER)
        candidates.append(cls._PICKLE_TRANSFORMER)
        candidates += list(dict.fromkeys(cls._REGISTRY.values()))
        candidates.append(cls._ENUM_TRANSFORMER)
        if cls._pydantic is not None:
            candidates += [
                cls._pydantic["tuple"],
                cls._pydantic["namedtuple"],
                cls._pydantic["typeddict"],
            ]
        candidates.append(cls._DATACLASS_TRANSFORMER)
        for transformer in candidates:
            try:
                return transformer.guess_python_type(flyte_type)
            except ValueError:
                continue
        raise ValueError(f"No transformers could reverse Flyte literal type {flyte_type}")

    @classmethod
    def guess_python_types(
        cls, flyte_variable_list: Iterable[interface_pb2.VariableEntry]
    ) -> dict[str, Any]:
        """Guess the Python type of every variable of a `VariableMap`."""
        return {e.key: cls.guess_python_type(e.value.type) for e in flyte_variable_list}

    @classmethod
    def named_tuple_to_variable_map(cls, t: Any) -> interface_pb2.VariableMap:
        """Describe the fields of a `NamedTuple` as a `VariableMap`."""
        variables = [
            interface_pb2.VariableEntry(
                key=name,
                value=interface_pb2.Variable(type=cls.to_literal_type(tp), description=f"{idx}"),
            )
            for idx, (name, tp) in enumerate(typing.get_type_hints(t, include_extras=True).items())
        ]
        return interface_pb2.VariableMap(variables=variables)

    # ------------------------------------------------------------------------------------------ #
    # Values

    @classmethod
    def to_literal_checks(cls, python_val: Any, python_type: Any, expected: LiteralType) -> None:
        """Reject untyped tuples and `None` for non-optional types (reference-compatible helper)."""
        if isinstance(python_val, tuple) and not (
            is_typed_tuple(python_type) or is_named_tuple(python_type)
        ):
            raise TypeTransformerFailedError(
                "Untyped tuples are not a supported type for individual values: got "
                f"{python_val!r:.80}. Use a typed tuple like tuple[int, str] or a NamedTuple."
            )
        if (
            python_val is None
            and python_type not in (NoneType, None, Any)
            and expected is not None
            and not expected.HasField("union_type")
        ):
            raise TypeTransformerFailedError(
                f"Python value cannot be None, expected {type_name(python_type)}"
            )

    @classmethod
    async def to_literal(
        cls, python_val: Any, python_type: Any, expected: LiteralType | None = None
    ) -> Literal:
        """Convert a Python value of the declared `python_type` to a `Literal`.

        Args:
            python_val: The value.
            python_type: Its declared type (an annotation, e.g. `list[int]`).
            expected: The literal type of `python_type` (computed when omitted).

        Returns:
            The literal.

        Raises:
            TypeTransformerFailedError: If the value does not match the type.
        """
        plan = cls._plan(python_type)
        if plan.filler is not None:
            lit = Literal()
            plan.filler(python_val, lit)
            return lit
        return await plan.encode(python_val, expected)

    @classmethod
    def to_literal_sync(
        cls, python_val: Any, python_type: Any, expected: LiteralType | None = None
    ) -> Literal:
        """Synchronous twin of `to_literal` (no event loop needed for I/O-free types)."""
        plan = cls._plan(python_type)
        if plan.filler is not None:
            lit = Literal()
            plan.filler(python_val, lit)
            return lit
        return run_sync(plan.encode(python_val, expected))

    @classmethod
    async def to_python_value(cls, lv: Literal, expected_python_type: Any) -> Any:
        """Convert a `Literal` to a Python value of `expected_python_type`.

        Raises:
            TypeTransformerFailedError: If the literal cannot be converted (`LiteralDecodeError`
                when it is corrupt or has the wrong shape).
        """
        plan = cls._plan(expected_python_type)
        if plan.reader is not None and not lv.HasField("offloaded_metadata"):
            return plan.reader(lv)
        return await plan.decode(lv)

    @classmethod
    def to_python_value_sync(cls, lv: Literal, expected_python_type: Any) -> Any:
        """Synchronous twin of `to_python_value`."""
        plan = cls._plan(expected_python_type)
        if plan.reader is not None and not lv.HasField("offloaded_metadata"):
            return plan.reader(lv)
        return run_sync(plan.decode(lv))

    @classmethod
    async def unwrap_offloaded_literal(cls, lv: Literal) -> Literal:
        """Fetch the literal an `offloaded_metadata` literal points to."""
        if not lv.HasField("offloaded_metadata"):
            return lv
        from flyte_types import _storage

        uri = lv.offloaded_metadata.uri
        if not uri:
            raise LiteralDecodeError("Offloaded literal has no uri")
        data = await _storage.read_bytes(uri)
        out = Literal()
        try:
            out.ParseFromString(data)
        except Exception as e:
            raise LiteralDecodeError(f"Corrupt offloaded literal at {uri}: {e}") from e
        return out

    @classmethod
    def to_html(cls, python_val: Any, expected_python_type: Any) -> str:
        """Render a value as HTML (an `Annotated` `Renderable` wins over the transformer)."""
        transformer = cls.get_transformer(expected_python_type)
        if is_annotated(expected_python_type):
            bare, *meta = typing.get_args(expected_python_type)
            for m in meta:
                to_html = getattr(m, "to_html", None)
                if callable(to_html) and not is_class(m):
                    return str(to_html(python_val))
            expected_python_type = bare
        return transformer.to_html(python_val, expected_python_type)

    # ------------------------------------------------------------------------------------------ #
    # Named values

    @classmethod
    async def dict_to_literal_map(
        cls, d: Mapping[str, Any], type_hints: Mapping[str, Any] | None = None
    ) -> LiteralMap:
        """Convert named values to a `LiteralMap`; a failure names the variable.

        A variable without a type hint uses the type of its value.
        """
        return await cls._to_literal_map(d, type_hints, "input")

    @classmethod
    async def _to_literal_map(
        cls, d: Mapping[str, Any], type_hints: Mapping[str, Any] | None, what: str
    ) -> LiteralMap:
        hints = type_hints or {}
        out = LiteralMap()
        pending: dict[str, Any] = {}
        for name, value in d.items():
            tp = hints.get(name, type(value))
            plan = cls._plan_for(name, tp, what)
            try:
                if plan.filler is not None:
                    plan.filler(value, out.literals[name])
                else:
                    pending[name] = asyncio.ensure_future(plan.encode(value))
            except Exception as e:
                raise _wrap_error(e, what, name, tp, value) from e
        if pending:
            await asyncio.gather(*pending.values(), return_exceptions=True)
            for name, task in pending.items():
                error = task.exception()
                if error is not None:
                    raise _wrap_error(
                        error, what, name, hints.get(name, type(d[name])), d[name]
                    ) from error
                out.literals[name].CopyFrom(task.result())
        return out

    @classmethod
    def _plan_for(cls, name: str, tp: Any, what: str) -> _Plan:
        try:
            return cls._plan(tp)
        except Exception as e:
            raise _wrap_error(e, what, name, tp) from e

    @classmethod
    async def literal_map_to_kwargs(
        cls,
        lm: LiteralMap | Mapping[str, Literal],
        python_types: Mapping[str, Any] | None = None,
        literal_types: Mapping[str, interface_pb2.Variable] | None = None,
    ) -> dict[str, Any]:
        """Convert a `LiteralMap` (or a name -> literal mapping) to keyword arguments.

        Types come from `python_types`, or are guessed from `literal_types`.

        Raises:
            ValueError: If neither is given, or there are more literals than declared types.
            TypeTransformerFailedError: If a literal cannot be converted (naming the input).
        """
        return await cls._from_literal_map(lm, python_types, literal_types, "input")

    @classmethod
    async def _from_literal_map(
        cls,
        lm: LiteralMap | Mapping[str, Literal],
        python_types: Mapping[str, Any] | None,
        literal_types: Mapping[str, interface_pb2.Variable] | None,
        what: str,
    ) -> dict[str, Any]:
        if python_types is None and literal_types is None:
            raise ValueError("At least one of python_types or literal_types must be provided")
        if literal_types:
            types_ = {k: cls.guess_python_type(v.type) for k, v in literal_types.items()}
        else:
            types_ = dict(python_types or {})
        literals = lm.literals if isinstance(lm, LiteralMap) else lm
        if not types_:
            return {}
        if len(literals) > len(types_):
            raise ValueError(
                f"Received more input values {len(literals)} than allowed by the input spec {len(types_)}"
            )
        out: dict[str, Any] = {}
        pending: dict[str, Any] = {}
        for name, lit in literals.items():
            if name not in types_:
                raise TypeTransformerFailedError(
                    f"Received a value for '{name}', which is not one of {sorted(types_)}"
                )
            tp = types_[name]
            plan = cls._plan_for(name, tp, what)
            try:
                if plan.reader is not None and not lit.HasField("offloaded_metadata"):
                    out[name] = plan.reader(lit)
                else:
                    pending[name] = asyncio.ensure_future(plan.decode(lit))
            except Exception as e:
                raise _wrap_error(e, what, name, tp) from e
        if pending:
            await asyncio.gather(*pending.values(), return_exceptions=True)
            for name, task in pending.items():
                error = task.exception()
                if error is not None:
                    raise _wrap_error(error, what, name, types_[name]) from error
                out[name] = task.result()
        return {name: out[name] for name in literals if name in out}


def _maybe_dataframe(python_type: Any) -> bool:
    bare, _ = strip_annotated(python_type)
    module = getattr(bare, "__module__", "") or ""
    root = module.split(".")[0]
    return root in ("pandas", "pyarrow", "polars") and root in sys.modules


def _register_defaults() -> None:
    for t in default_simple_transformers():
        TypeEngine.register(t)
    TypeEngine.register(BytesTransformer())
    TypeEngine.register(ListTransformer())
    TypeEngine.register(UnionTransformer())
    TypeEngine.register(DictTransformer())
    TypeEngine.register(ProtobufTransformer())
    TypeEngine.register(TypeEngine._PICKLE_TRANSFORMER)
    TypeEngine._REGISTRY[None] = TypeEngine._REGISTRY[NoneType]


_register_defaults()

"""The Python-side interface of a task: named, typed inputs (with defaults) and named, typed outputs.

A `NativeInterface` is what the rest of the SDK reads to bind call arguments, to build the wire
`TypedInterface` (flyte-types) and to show a task's signature. It is derived from a callable's
signature and type hints by `NativeInterface.from_callable`, or assembled from types by
`NativeInterface.from_types` (remote tasks, whose Python defaults are unknown).

Input defaults are encoded in the second element of each `inputs` tuple:

* `inspect.Parameter.empty` means the input is required;
* `NativeInterface.has_default` (a marker class) means the input has a default whose Python value is
  not known here: the wire form of the default lives in `NativeInterface.remote_defaults`;
* any other value is the Python default itself.

Outputs are named `o0, o1, ...` in order, except for a `typing.NamedTuple` return, whose field names
are kept (the names are part of the deployed interface).
"""

from __future__ import annotations

import inspect
import logging
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Union

__all__ = [
    "Docstring",
    "InputBindingError",
    "NativeInterface",
    "default_output_name",
    "extract_return_annotation",
]

logger = logging.getLogger("flyte_models")


class InputBindingError(TypeError, ValueError):
    """Raised when call arguments cannot be bound to a task's inputs.

    It is both a `TypeError` (what Python raises for a bad call) and a `ValueError` (what the
    reference SDK raised for the same mistakes), so either `except` clause catches it.
    """


def default_output_name(index: int = 0) -> str:
    """Return the conventional name of the output at `index`.

    Args:
        index: Zero-based position of the output.

    Returns:
        The output name, `o<index>`.
    """
    return f"o{index}"


def _is_named_tuple(tp: Any) -> bool:
    return (
        isinstance(tp, type)
        and issubclass(tp, tuple)
        and hasattr(tp, "_fields")
        and hasattr(tp, "__annotations__")
    )


def extract_return_annotation(return_annotation: Any) -> dict[str, Any]:
    """Turn a return annotation into the ordered output names and types of a task.

    Args:
        return_annotation: The resolved return annotation of a function (`inspect.Signature.empty`
            when absent).

    Returns:
        An ordered mapping from output name to type: empty for `None` (or no annotation), one
        entry per element for `tuple[...]` and `typing.NamedTuple` returns, otherwise `{"o0": T}`.

    Raises:
        TypeError: For an unresolved string annotation, a one-element tuple or a variable-length
            tuple.
    """
    if isinstance(return_annotation, str):
        raise TypeError(
            f"return annotation {return_annotation!r} is a string that could not be resolved to a type"
        )
    if return_annotation in (None, type(None), inspect.Signature.empty):
        return {}
    if _is_named_tuple(return_annotation):
        return dict(typing.get_type_hints(return_annotation, include_extras=True))
    if typing.get_origin(return_annotation) is tuple:
        args = typing.get_args(return_annotation)
        if len(args) == 1:
            raise TypeError(
                f"return annotation {return_annotation!r}: a tuple return declares several outputs, "
                "found only one element; return the element type itself instead"
            )
        if Ellipsis in args:
            raise TypeError(
                f"return annotation {return_annotation!r}: variable-length tuples are not supported "
                "as task outputs"
            )
        return {default_output_name(i): arg for i, arg in enumerate(args)}
    if isinstance(return_annotation, tuple):
        if len(return_annotation) == 1:
            raise TypeError(
                f"return annotation {return_annotation!r}: a tuple return declares several outputs, "
                "found only one element"
            )
        return {default_output_name(i): arg for i, arg in enumerate(return_annotation)}
    return {default_output_name(0): return_annotation}


_SECTION_RE = re.compile(r"^\s*([A-Za-z][A-Za-z ]*):\s*$")
_GOOGLE_ITEM_RE = re.compile(r"^(\*{0,2}[A-Za-z_][A-Za-z0-9_]*)\s*(\([^)]*\))?\s*:\s*(.*)$")
_SPHINX_PARAM_RE = re.compile(r"^:param\s+(?:[^:\s]+\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*)$")
_SPHINX_RETURN_RE = re.compile(r"^:returns?\s*:\s*(.*)$")
_PARAM_SECTIONS = {"args", "arguments", "parameters", "params", "keyword args", "other parameters"}
_RETURN_SECTIONS = {"returns", "return", "yields", "yield"}
_OTHER_SECTIONS = {
    "raises",
    "raise",
    "example",
    "examples",
    "note",
    "notes",
    "see also",
    "warning",
    "warnings",
    "attributes",
    "todo",
    "references",
}


class Docstring:
    """A parsed docstring: short and long descriptions, and per-input and per-output descriptions.

    Google (`Args:` / `Returns:`), Sphinx (`:param x:` / `:returns:`) and numpy
    (`Parameters` underlined by dashes) sections are recognised. Parsing is done with the standard
    library only.

    Args:
        docstring: The raw docstring text. Takes precedence over `callable_`.
        callable_: A callable whose `__doc__` is parsed when `docstring` is not given.
    """

    def __init__(self, docstring: str | None = None, callable_: Callable[..., Any] | None = None):
        if docstring is None and callable_ is not None:
            docstring = inspect.getdoc(callable_)
        self._raw: str = inspect.cleandoc(docstring) if docstring else ""
        self._short: str | None = None
        self._long: str | None = None
        self._inputs: dict[str, str | None] = {}
        self._outputs: dict[str, str | None] = {}
        self._parse()

    @property
    def raw(self) -> str:
        """The cleaned docstring text."""
        return self._raw

    @property
    def short_description(self) -> str | None:
        """The first line of the docstring, or `None` when it is empty."""
        return self._short

    @property
    def long_description(self) -> str | None:
        """The free text after the first line and before the first section, or `None`."""
        return self._long

    @property
    def input_descriptions(self) -> dict[str, str | None]:
        """Descriptions of the documented inputs, by input name."""
        return dict(self._inputs)

    @property
    def output_descriptions(self) -> dict[str, str | None]:
        """Descriptions of the documented outputs, by output name (`o0` for an unnamed return)."""
        return dict(self._outputs)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Docstring) and other._raw == self._raw

    def __hash__(self) -> int:
        return hash(self._raw)

    def __repr__(self) -> str:
        return f"Docstring({self._short!r})"

    def _parse(self) -> None:
        lines = self._raw.splitlines()
        if not lines:
            return
        body: list[str] = []
        # (section name, lines, numpy-style?)
        sections: list[tuple[str, list[str], bool]] = []
        current: list[str] | None = None
        i = 0
        while i < len(lines):
            line = lines[i]
            stripped = line.strip()
            nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
            name: str | None = None
            numpy = False
            if not line.startswith((" ", "\t")):
                match = _SECTION_RE.match(line)
                if match and match.group(1).lower() in (
                    _PARAM_SECTIONS | _RETURN_SECTIONS | _OTHER_SECTIONS
                ):
                    name = match.group(1).lower()
                elif stripped and nxt and set(nxt) == {"-"}:
                    name, numpy = stripped.lower(), True
                    i += 1  # skip the underline
            if name is not None:
                current = []
                sections.append((name, current, numpy))
            elif stripped.startswith(":"):
                sections.append(("sphinx", [stripped], False))
                current = sections[-1][1]
            elif current is not None:
                current.append(line)
            else:
                body.append(line)
            i += 1
        text = "\n".join(body).strip()
        if text:
            first, _, rest = text.partition("\n")
            self._short = first.strip()
            self._long = rest.strip() or None
        for name, content, numpy in sections:
            if name == "sphinx":
                self._parse_sphinx(content[0])
            elif name in _PARAM_SECTIONS:
                self._inputs.update(self._parse_items(content, numpy))
            elif name in _RETURN_SECTIONS:
                self._outputs.update(self._parse_returns(content))

    def _parse_sphinx(self, line: str) -> None:
        param = _SPHINX_PARAM_RE.match(line)
        if param:
            self._inputs[param.group(1)] = param.group(2).strip() or None
            return
        ret = _SPHINX_RETURN_RE.match(line)
        if ret:
            self._outputs[default_output_name(0)] = ret.group(1).strip() or None

    @staticmethod
    def _blocks(content: list[str]) -> list[tuple[str, str]]:
        """Group section lines into (head, continuation) blocks by indentation."""
        nonblank = [ln for ln in content if ln.strip()]
        if not nonblank:
            return []
        base = min(len(ln) - len(ln.lstrip()) for ln in nonblank)
        blocks: list[tuple[str, list[str]]] = []
        for ln in nonblank:
            indent = len(ln) - len(ln.lstrip())
            if indent <= base or not blocks:
                blocks.append((ln.strip(), []))
            else:
                blocks[-1][1].append(ln.strip())
        return [(head, " ".join(rest)) for head, rest in blocks]

    def _parse_items(self, content: list[str], numpy: bool) -> dict[str, str | None]:
        items: dict[str, str | None] = {}
        for head, rest in self._blocks(content):
            match = _GOOGLE_ITEM_RE.match(head)
            if match:
                name = match.group(1).lstrip("*")
                if numpy:  # "name : type" with the description on the following lines
                    desc = rest
                else:
                    desc = " ".join(p for p in (match.group(3).strip(), rest) if p)
                items[name] = desc or None
        return items

    def _parse_returns(self, content: list[str]) -> dict[str, str | None]:
        blocks = self._blocks(content)
        named: dict[str, str | None] = {}
        for head, rest in blocks:
            match = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*)$", head)
            if match and len(blocks) > 1:
                desc = " ".join(p for p in (match.group(2).strip(), rest) if p)
                named[match.group(1)] = desc or None
        if named:
            return named
        text = " ".join(" ".join(p for p in (head, rest) if p) for head, rest in blocks).strip()
        return {default_output_name(0): text} if text else {}


def _format_type(tp: Any) -> str:
    if isinstance(tp, str):
        return tp
    if isinstance(tp, type) and not typing.get_args(tp):
        return tp.__name__
    return repr(tp)


class _HasDefault:
    """Marker: the input has a default whose Python value is not known (see `remote_defaults`)."""


@dataclass(frozen=True)
class NativeInterface:
    """The named, typed inputs and outputs of a task.

    Args:
        inputs: Ordered mapping from input name to `(type, default)`. `default` is
            `inspect.Parameter.empty` for a required input, `NativeInterface.has_default` for an
            input whose default is only known in wire form, or the Python default value.
        outputs: Ordered mapping from output name (`o0`, `o1`, ... or `NamedTuple` field names) to
            type.
        docstring: The parsed docstring of the function, if any.
        _remote_defaults: Wire-form defaults (flyteidl2 `Literal` messages, opaque here) for inputs
            marked `has_default`. Read them through `remote_defaults`.

    Example:
        ```python
        def add(x: int, y: int = 1) -> int: ...

        iface = NativeInterface.from_callable(add)
        iface.required_inputs()       # ["x"]
        iface.convert_to_kwargs(3)    # {"x": 3}
        repr(iface)                   # "(x: int, y: int = 1) -> o0: int:"
        ```
    """

    inputs: dict[str, tuple[Any, Any]]
    outputs: dict[str, Any]
    docstring: Docstring | None = field(default=None, compare=False)
    _remote_defaults: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    has_default: ClassVar[type[_HasDefault]] = _HasDefault
    """Marker for an input that has a default whose Python value is unknown."""

    def __post_init__(self) -> None:
        if not isinstance(self.inputs, dict):
            raise TypeError(
                f"NativeInterface.inputs must be a dict of name -> (type, default), got {self.inputs!r}"
            )
        if not isinstance(self.outputs, dict):
            raise TypeError(
                f"NativeInterface.outputs must be a dict of name -> type, got {self.outputs!r}"
            )
        for name, spec in self.inputs.items():
            if not isinstance(spec, tuple) or len(spec) != 2:
                raise TypeError(
                    f"NativeInterface.inputs[{name!r}] must be a (type, default) tuple, got {spec!r}"
                )

    @property
    def remote_defaults(self) -> dict[str, Any]:
        """Wire-form defaults of inputs marked `has_default` (empty when there are none)."""
        return dict(self._remote_defaults or {})

    def has_outputs(self) -> bool:
        """Return whether the interface declares at least one output."""
        return bool(self.outputs)

    def required_inputs(self) -> list[str]:
        """Return the names of the inputs that have no default, in declaration order."""
        return [k for k, (_, d) in self.inputs.items() if d is inspect.Parameter.empty]

    def num_required_inputs(self) -> int:
        """Return the number of inputs that have no default."""
        return len(self.required_inputs())

    def get_input_types(self) -> dict[str, Any]:
        """Return the input types by input name."""
        return {k: tp for k, (tp, _) in self.inputs.items()}

    def get_input_defaults(self) -> dict[str, Any]:
        """Return the known Python defaults by input name (inputs without one are omitted)."""
        return {
            k: d
            for k, (_, d) in self.inputs.items()
            if d is not inspect.Parameter.empty and d is not self.has_default
        }

    @classmethod
    def from_types(
        cls,
        inputs: dict[str, tuple[Any, Any]],
        outputs: dict[str, Any],
        default_inputs: dict[str, Any] | None = None,
    ) -> NativeInterface:
        """Build an interface from types, typically for a remote task.

        Args:
            inputs: Mapping from input name to `(type, default)`; see the class docstring.
            outputs: Mapping from output name to type.
            default_inputs: Wire-form defaults for every input marked `NativeInterface.has_default`.

        Returns:
            The interface.

        Raises:
            ValueError: If an input is marked `has_default` but `default_inputs` has no entry for it.
        """
        for name, spec in inputs.items():
            if (
                isinstance(spec, tuple)
                and len(spec) == 2
                and spec[1] is cls.has_default
                and (default_inputs is None or name not in default_inputs)
            ):
                raise ValueError(
                    f"inputs[{name!r}] is marked has_default but default_inputs has no value for it "
                    f"(default_inputs={sorted(default_inputs or {})!r})"
                )
        return cls(inputs=dict(inputs), outputs=dict(outputs), _remote_defaults=default_inputs)

    @classmethod
    def from_callable(cls, func: Callable[..., Any]) -> NativeInterface:
        """Derive the interface of a function from its signature and type hints.

        String annotations (and `from __future__ import annotations`) are resolved with
        `typing.get_type_hints(..., include_extras=True)`, so `Annotated` metadata is kept.
        An unannotated input gets type `typing.Any` (its values will be pickled). `Literal[...]`
        annotations are kept as they are.

        Args:
            func: A plain or `async` function.

        Returns:
            The interface: inputs in signature order with their defaults, and outputs named
            `o0, o1, ...` (`NamedTuple` field names for a `NamedTuple` return; none for `None`).

        Raises:
            ValueError: If the function takes `*args` or `**kwargs`.
            TypeError: If a type hint cannot be resolved, or the return annotation is an
                unsupported tuple.
        """
        name = getattr(func, "__qualname__", getattr(func, "__name__", repr(func)))
        sig = inspect.signature(func)
        try:
            hints = typing.get_type_hints(func, include_extras=True)
        except Exception as e:
            raise TypeError(f"cannot resolve the type hints of function {name!r}: {e}") from e
        inputs: dict[str, tuple[Any, Any]] = {}
        for pname, param in sig.parameters.items():
            if param.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
                raise ValueError(
                    f"function {name!r}: parameter {pname!r} is variadic (*args/**kwargs), which a "
                    "task cannot take"
                )
            if pname in hints:
                tp = hints[pname]
            else:
                logger.warning(
                    "Function %s has parameter %s without a type annotation; its values will be "
                    "pickled.",
                    name,
                    pname,
                )
                tp = Any
            inputs[pname] = (tp, param.default)
        outputs = extract_return_annotation(hints.get("return", sig.return_annotation))
        docstring = Docstring(callable_=func) if getattr(func, "__doc__", None) else None
        return cls(inputs=inputs, outputs=outputs, docstring=docstring)

    def convert_to_kwargs(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Bind positional and keyword arguments to input names.

        Defaults are not filled in: the result holds exactly the arguments given.

        Args:
            *args: Positional arguments, bound to inputs in declaration order.
            **kwargs: Keyword arguments, by input name.

        Returns:
            The arguments keyed by input name, in declaration order.

        Raises:
            InputBindingError: (a `TypeError` and a `ValueError`) on too many positional
                arguments, an unknown or duplicated name, or a missing required input.
        """
        names = list(self.inputs)
        if len(args) > len(names):
            raise InputBindingError(
                f"Too many positional arguments: expected at most {len(names)} (inputs {names}), "
                f"got {len(args)}"
            )
        bound: dict[str, Any] = dict(zip(names, args, strict=False))
        for key, value in kwargs.items():
            if key not in self.inputs:
                raise InputBindingError(f"Unknown input {key!r}: expected one of {names}")
            if key in bound:
                raise InputBindingError(f"Input {key!r} was given both positionally and by name")
            bound[key] = value
        missing = [k for k in self.required_inputs() if k not in bound]
        if missing:
            raise InputBindingError(f"Missing required inputs: {', '.join(missing)}")
        return {k: bound[k] for k in names if k in bound}

    @property
    def json_schema(self) -> dict[str, Any]:
        """A JSON schema (draft 2020-12 subset) of the inputs, from the Python types alone.

        Builtins, `Optional`/`Union`, `list`, `dict`, `Literal`, `Enum` and dataclasses are mapped;
        anything else is described as an unconstrained value. (The type engine in flyte-types
        gives the wire-exact `LiteralType`; this view needs no third-party import.)
        """
        properties = {k: _json_schema_for(tp) for k, (tp, _) in self.inputs.items()}
        return {"type": "object", "properties": properties, "required": self.required_inputs()}

    def __repr__(self) -> str:
        parts = []
        for key, (tp, default) in self.inputs.items():
            text = f"{key}: {_format_type(tp)}"
            if default is self.has_default:
                text += " = ..."
            elif default is not inspect.Parameter.empty:
                text += f" = {default!r}"
            parts.append(text)
        out = f"({', '.join(parts)})"
        if self.outputs:
            outs = [f"{k}: {_format_type(tp)}" for k, tp in self.outputs.items()]
            out += " -> " + (f"({', '.join(outs)})" if len(outs) > 1 else outs[0])
        return out + ":"


_JSON_PRIMITIVES: dict[Any, str] = {
    int: "integer",
    float: "number",
    str: "string",
    bool: "boolean",
    bytes: "string",
}


def _json_schema_for(tp: Any) -> dict[str, Any]:
    import dataclasses
    import enum

    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        return _json_schema_for(args[0])
    if tp in _JSON_PRIMITIVES:
        return {"type": _JSON_PRIMITIVES[tp]}
    if tp is type(None) or tp is None:
        return {"type": "null"}
    if origin is Literal:
        return {"enum": list(args)}
    if origin is Union or type(tp).__name__ == "UnionType":
        return {"anyOf": [_json_schema_for(a) for a in args]}
    if origin in (list, set, frozenset) or tp in (list, set, frozenset):
        schema: dict[str, Any] = {"type": "array"}
        if args:
            schema["items"] = _json_schema_for(args[0])
        return schema
    if origin is dict or tp is dict:
        schema = {"type": "object"}
        if len(args) == 2:
            schema["additionalProperties"] = _json_schema_for(args[1])
        return schema
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return {"enum": [m.value for m in tp]}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        return {
            "type": "object",
            "properties": {f.name: _json_schema_for(hints[f.name]) for f in dataclasses.fields(tp)},
        }
    return {}

"""The corpus of the two-way compatibility test between flyte_types and the reference SDK.

This module is imported by *both* sides: by our test (in our interpreter) and by
`ref_helper.py` (in the reference SDK's virtualenv). It may therefore import only the standard
library, pydantic and protobuf/flyteidl2, which both environments have. Types are defined here
once, so both sides see the same classes under the same module name (`compat_corpus`), which also
makes pickles of these classes loadable on either side.

Each case is `Case(name, type, value, ...)`; io types (`File`, `Dir`, `DataFrame`) are built by
`io_cases(io_module, workdir)` from whichever `io` package the side has (`flyte.io` or
`flyte_types.io`).
"""

import dataclasses
import datetime
import enum
import typing
from collections.abc import Callable
from typing import Annotated, Any, Literal, NamedTuple, Optional, TypedDict, Union

from flyteidl2.core import literals_pb2
from pydantic import BaseModel

# ---------------------------------------------------------------------------------------------- #
# Types


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


@dataclasses.dataclass
class Inner:
    a: int
    b: str = "x"


@dataclasses.dataclass
class Everything:
    i: int
    f: float
    s: str
    flag: bool
    inner: Inner
    inners: list[Inner]
    counts: dict[str, int]
    by_id: dict[int, str]
    maybe: Optional[Inner] = None
    opt_i: Optional[int] = None
    color: Color = Color.RED
    level: Level = Level.LOW
    when: datetime.datetime = datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    day: datetime.date = datetime.date(2024, 1, 2)
    wait: datetime.timedelta = datetime.timedelta(seconds=90)
    blob: bytes = b"\x00\x01"
    pair: tuple[int, str] = (1, "a")
    tags: list[str] = dataclasses.field(default_factory=list)
    either: Union[int, str] = 0
    choice: Literal["a", "b"] = "a"
    anything: Any = None


@dataclasses.dataclass
class Defaults:
    x: int = 1
    y: float = 2.5
    z: list[int] = dataclasses.field(default_factory=lambda: [1, 2])


class Address(BaseModel):
    street: str
    zip_code: Optional[str] = None


class Person(BaseModel):
    name: str
    age: int
    score: float = 0.5
    color: Color = Color.GREEN
    colors: list[Color] = []
    address: Optional[Address] = None
    nicknames: list[str] = []
    born: Optional[datetime.datetime] = None
    meta: dict[str, float] = {}


class Point(NamedTuple):
    x: int
    y: str


class Movie(TypedDict):
    title: str
    year: int
    tags: list[str]


class Opaque:
    """Not supported by any transformer: travels pickled."""

    def __init__(self, v: int) -> None:
        self.v = v

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and other.v == self.v

    def __hash__(self) -> int:
        return hash(self.v)


LITERAL_AB = Literal["a", "b"]

# ---------------------------------------------------------------------------------------------- #
# Cases


@dataclasses.dataclass
class Case:
    name: str
    type: Any
    value: Any
    expected: Any = dataclasses.field(default=None)
    same_bytes: bool = True  # the two SDKs write byte-identical literals
    same_type: bool = True  # ... and identical literal types
    eq: Callable[[Any, Any], bool] | None = None
    decode_as: Any = None  # decode with this type instead of `type`

    def want(self) -> Any:
        return self.value if self.expected is None else self.expected

    def read_type(self) -> Any:
        return self.type if self.decode_as is None else self.decode_as

    def same(self, got: Any) -> bool:
        want = self.want()
        return bool(self.eq(got, want)) if self.eq is not None else bool(got == want)


def _utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime.datetime:
    return datetime.datetime(
        year, month, day, hour, minute, second, us, tzinfo=datetime.timezone.utc
    )


_TZ_PLUS5 = datetime.timezone(datetime.timedelta(hours=5))


def _everything() -> Everything:
    return Everything(
        i=7,
        f=2.0,
        s="hé",
        flag=True,
        inner=Inner(1),
        inners=[Inner(2, "y"), Inner(3)],
        counts={"a": 1, "b": 2},
        by_id={1: "one", 2: "two"},
        maybe=Inner(9, "z"),
        opt_i=None,
        color=Color.BLUE,
        level=Level.HIGH,
        tags=["t1"],
        either="s",
        choice="b",
        anything={"k": [1, 2]},
    )


def cases() -> list[Case]:
    """The value cases that need no io module."""
    return [
        Case("int", int, 42),
        Case("int_negative_big", int, -(2**62)),
        Case("float", float, 3.25),
        Case("float_from_int_literal", float, 3.0),
        Case("str", str, "héllo wörld"),
        Case("str_empty", str, ""),
        Case("bool_true", bool, True),
        Case("bool_false", bool, False),
        Case("none", type(None), None),
        Case("bytes", bytes, b"\x00\xffraw bytes"),
        Case("bytes_large", bytes, b"z" * 20_000, same_bytes=False),
        Case("datetime_utc", datetime.datetime, _utc(2024, 5, 6, 7, 8, 9, 123456)),
        Case(
            "datetime_plus5",
            datetime.datetime,
            datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=_TZ_PLUS5),
        ),
        Case("date", datetime.date, datetime.date(2023, 12, 31)),
        Case(
            "timedelta", datetime.timedelta, datetime.timedelta(days=2, seconds=3, microseconds=4)
        ),
        Case("list_int", list[int], [1, 2, 3, -4]),
        Case("list_empty", list[int], []),
        Case("list_list_str", list[list[str]], [["a"], [], ["b", "c"]]),
        Case("list_float", typing.List[float], [1.5, 2.0]),  # noqa: UP006 - on purpose
        Case("dict_str_float", dict[str, float], {"a": 1.0, "b": -2.5}),
        Case("dict_empty", dict[str, int], {}),
        Case("dict_str_list_int", dict[str, list[int]], {"x": [1, 2], "y": []}),
        Case("dict_int_str", dict[int, str], {1: "one", 2: "two"}),
        Case("dict_int_inner", dict[int, Inner], {3: Inner(3, "c")}),
        Case("bare_list", list, [1, "a", None], same_type=True),
        Case("bare_dict", dict, {"a": [1, {"b": 2.5}], "n": None}),
        Case("optional_none", Optional[int], None),
        Case("optional_value", Optional[int], 5),
        Case("optional_str_pep604", str | None, "x"),
        Case("union_int", Union[int, str], 3),
        Case("union_str", Union[int, str], "three"),
        Case("union_pep604", int | float, 2.5),
        Case("union_list", Union[list[int], dict[str, int]], {"a": 1}),
        Case("optional_dataclass", Optional[Inner], Inner(4, "w")),
        Case("enum", Color, Color.GREEN),
        Case("int_enum", Level, Level.HIGH),
        Case("literal", LITERAL_AB, "b"),
        Case("list_enum", list[Color], [Color.RED, Color.BLUE]),
        Case("optional_enum", Optional[Color], Color.BLUE),
        Case("union_enum_int", Union[Level, str], Level.LOW),
        Case("list_optional_float", list[Optional[float]], [1.0, None, 2.5]),
        Case("dict_str_list_dataclass", dict[str, list[Inner]], {"a": [Inner(1)], "b": []}),
        Case("optional_dict_int", Optional[dict[int, float]], {7: 0.5}),
        Case("dataclass_everything", Everything, _everything()),
        Case("dataclass_defaults", Defaults, Defaults()),
        Case("dataclass_list", list[Inner], [Inner(1), Inner(2, "q")]),
        Case("dict_str_dataclass", dict[str, Inner], {"k": Inner(5)}),
        Case(
            "pydantic",
            Person,
            Person(
                name="Ada",
                age=36,
                score=9.5,
                colors=[Color.RED, Color.BLUE],
                address=Address(street="Main 1"),
                nicknames=["a"],
                born=_utc(1815, 12, 10),
                meta={"m": 1.5},
            ),
        ),
        Case("pydantic_defaults", Person, Person(name="Bob", age=1)),
        Case("pydantic_list", list[Person], [Person(name="C", age=2), Person(name="D", age=3)]),
        Case("optional_pydantic", Optional[Address], Address(street="s", zip_code="z")),
        Case("typed_dict", Movie, Movie(title="Heat", year=1995, tags=["crime"])),
        Case("tuple", tuple[int, str, float], (1, "a", 2.5)),
        Case("named_tuple", Point, Point(3, "p")),
        Case(
            "protobuf",
            literals_pb2.KeyValuePair,
            literals_pb2.KeyValuePair(key="k", value="v"),
        ),
        Case("annotated", Annotated[int, "some metadata"], 11),
        Case("annotated_list", Annotated[list[str], "meta"], ["x"]),
        Case("pickle_custom", Opaque, Opaque(5)),
        Case("pickle_set", set, {3, 1, 2}),
        Case("pickle_any", Any, {"any": (1, 2)}),
        Case("list_of_pickles", list[Opaque], [Opaque(1), Opaque(2)]),
    ]


def _same_file(a: Any, b: Any) -> bool:
    return (a.path, a.name, a.format, a.hash) == (b.path, b.name, b.format, b.hash)


def _same_df_ref(a: Any, b: Any) -> bool:
    return (a.uri, a.format) == (b.uri, b.format)


def io_cases(io: Any, workdir: str) -> list[Case]:
    """The cases with `File`, `Dir` and `DataFrame` (built with the given io module)."""
    import os

    data = os.path.join(workdir, "data")
    os.makedirs(os.path.join(data, "d", "sub"), exist_ok=True)
    with open(os.path.join(data, "f.txt"), "w") as fh:
        fh.write("file contents")
    with open(os.path.join(data, "d", "a.txt"), "w") as fh:
        fh.write("a")
    with open(os.path.join(data, "d", "sub", "b.txt"), "w") as fh:
        fh.write("b")
    f = os.path.join(data, "f.txt")
    d = os.path.join(data, "d")

    @dataclasses.dataclass
    class WithFile:  # the File class differs per side, so the dataclass is built here
        f: io.File  # type: ignore[name-defined]
        d: io.Dir  # type: ignore[name-defined]

    WithFile.__module__ = __name__
    WithFile.__qualname__ = "WithFile"

    from pydantic import create_model

    optional_df: Any = Optional[io.DataFrame]
    with_io = create_model(
        "WithIo",
        f=(io.File, ...),
        files=(list[io.File], []),
        df=(optional_df, None),
    )
    io_model = with_io(
        f=io.File(path=f, format="txt"),
        files=[io.File(path="s3://b/x")],
        df=io.DataFrame.from_existing_remote("s3://bucket/df", format="parquet"),
    )

    def _same_io_model(a: Any, b: Any) -> bool:
        return (
            _same_file(a.f, b.f)
            and all(_same_file(x, y) for x, y in zip(a.files, b.files, strict=True))
            and _same_df_ref(a.df, b.df)
        )

    return [
        Case("pydantic_with_io", with_io, io_model, eq=_same_io_model),
        Case("file", io.File, io.File(path=f), eq=_same_file),
        Case("file_remote_hash", io.File, io.File(path="s3://bucket/k/x.csv", format="csv", hash="h1"), eq=_same_file),
        Case("dir", io.Dir, io.Dir(path=d), eq=_same_file),
        Case("dir_remote", io.Dir, io.Dir(path="s3://bucket/prefix", format="parquet"), eq=_same_file),
        Case("list_file", list[io.File], [io.File(path=f), io.File(path="gs://b/o")],
             eq=lambda a, b: len(a) == len(b) and all(_same_file(x, y) for x, y in zip(a, b, strict=False))),
        Case("optional_file", Optional[io.File], io.File(path=f), eq=_same_file),
        Case("dataclass_with_file", WithFile, WithFile(io.File(path=f), io.Dir(path=d)),
             eq=lambda a, b: _same_file(a.f, b.f) and _same_file(a.d, b.d)),
        Case("dataframe_ref", io.DataFrame, io.DataFrame.from_existing_remote("s3://bucket/df", format="parquet"),
             eq=_same_df_ref),
    ]  # fmt: skip


def pandas_cases(io: Any) -> list[Case]:
    """DataFrame cases that need pandas (and pyarrow) on the side building them."""
    import pandas as pd

    df = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", "z"], "c": [0.5, 1.5, 2.5]})
    same = lambda a, b: a.reset_index(drop=True).equals(b.reset_index(drop=True))  # noqa: E731
    return [
        Case("pandas", pd.DataFrame, df, same_bytes=False, eq=same),
        Case(
            "dataframe_wrapped",
            io.DataFrame,
            io.DataFrame.wrap_df(df),
            expected=df,
            same_bytes=False,
            eq=same,
            decode_as=pd.DataFrame,
        ),
    ]


# ---------------------------------------------------------------------------------------------- #
# Task signatures for interface / inputs.pb / outputs.pb compatibility.


def fn_simple(x: int, y: str = "hi", z: Optional[float] = None) -> int:
    return x


def fn_rich(
    p: Person, items: list[Inner], color: Color = Color.RED, choice: LITERAL_AB = "a"
) -> tuple[int, str]:
    return 1, "a"


def fn_named(a: dict[str, float], b: dict[int, str]) -> Point:
    return Point(1, "a")


def fn_nothing(when: datetime.datetime) -> None:
    return None


FUNCTIONS = {
    "fn_simple": (fn_simple, {"x": 3}, 42),
    "fn_rich": (
        fn_rich,
        {"p": Person(name="A", age=1), "items": [Inner(1)], "choice": "b"},
        (7, "seven"),
    ),
    "fn_named": (fn_named, {"a": {"k": 1.0}, "b": {1: "x"}}, Point(2, "two")),
    "fn_nothing": (fn_nothing, {"when": _utc(2020, 1, 1)}, None),
}

"""A third-party plugin, defined only here, is found through its entry points and used.

The plugin is a small package written into `tmp_path` with a `*.dist-info` directory (METADATA and
entry_points.txt), as pip would install it; putting it on `sys.path` is all it takes for
`importlib.metadata` to see it. Nothing imports the plugin's modules explicitly: the type
transformer is found by the type engine, the task class by the environment, from the config class.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import flyte_runtime._plugins as plugins
from flyte_models import Resources, TaskPluginRegistry

DIST = "thirdparty_flyte_plugin"

FILES = {
    f"{DIST}/__init__.py": "",
    # The config class is all users import; it does not import the task class.
    f"{DIST}/config.py": """
        from dataclasses import dataclass

        @dataclass
        class Shout:
            suffix: str = "!"
    """,
    f"{DIST}/tasks.py": """
        from dataclasses import dataclass
        from typing import Any

        from flyte.extend import AsyncFunctionTaskTemplate
        from thirdparty_flyte_plugin.config import Shout

        LOADED = True

        @dataclass(kw_only=True)
        class ShoutTask(AsyncFunctionTaskTemplate):
            plugin_config: Shout
            task_type: str = "shout"
            task_type_version: int = 2

            async def pre(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
                return {"shout_suffix": self.plugin_config.suffix}

            async def post(self, return_vals: Any) -> Any:
                return return_vals

            async def execute(self, *args: Any, **kwargs: Any) -> Any:
                value = await super().execute(*args, **kwargs)
                return value.upper() + self.plugin_config.suffix

            def custom_config(self, sctx: Any) -> dict[str, Any]:
                return {"suffix": self.plugin_config.suffix}
    """,
    f"{DIST}/types.py": """
        from flyteidl2.core import literals_pb2, types_pb2
        from flyte.extend import TypeTransformer, register_transformer

        class Money:
            def __init__(self, cents: int) -> None:
                self.cents = cents

            def __repr__(self) -> str:
                return f"Money({self.cents / 100:.2f})"

        class MoneyTransformer(TypeTransformer[Money]):
            def __init__(self) -> None:
                super().__init__("Money", Money)

            def get_literal_type(self, t=None):
                return types_pb2.LiteralType(simple=types_pb2.SimpleType.STRING)

            async def to_literal(self, python_val, python_type, expected):
                text = f"{python_val.cents}c"
                return literals_pb2.Literal(
                    scalar=literals_pb2.Scalar(primitive=literals_pb2.Primitive(string_value=text))
                )

            async def to_python_value(self, lv, expected_python_type):
                return Money(int(lv.scalar.primitive.string_value.rstrip("c")))

        def register() -> None:
            register_transformer(MoneyTransformer())
    """,
    f"{DIST}/cli.py": """
        def hello():
            return "hello command"

        def thing():
            return "get thing"

        def too_deep():
            return "never"

        def wrap_run(command):
            return ("wrapped", command)

        NOT_CALLABLE = 3
    """,
    f"{DIST}/builders.py": """
        class EchoBuilder:
            def get_checkers(self):
                return None

            async def build_image(self, image, dry_run=False, wait=True):
                return image.uri
    """,
    f"{DIST}-1.0.dist-info/METADATA": """
        Metadata-Version: 2.1
        Name: thirdparty-flyte-plugin
        Version: 1.0
    """,
    f"{DIST}-1.0.dist-info/entry_points.txt": f"""
        [flyte.plugins.types]
        money = {DIST}.types:register

        [flyte.plugins.tasks]
        {DIST}.config.Shout = {DIST}.tasks:ShoutTask

        [flyte.plugins.cli.commands]
        hello = {DIST}.cli:hello
        get.thing = {DIST}.cli:thing
        a.b.c = {DIST}.cli:too_deep
        broken = {DIST}.missing:nothing

        [flyte.plugins.cli.hooks]
        run = {DIST}.cli:wrap_run
        deploy = {DIST}.cli:NOT_CALLABLE

        [flyte.plugins.image_builders]
        echo = {DIST}.builders:EchoBuilder
    """,
}

SCRIPT = f"""
import sys

import flyte
from {DIST}.config import Shout

assert "{DIST}.tasks" not in sys.modules and "{DIST}.types" not in sys.modules

env = flyte.TaskEnvironment(name="third_party", plugin_config=Shout("?!"))


@env.task
async def greet(name: str) -> str:
    return "hello " + name + " " + flyte.ctx().data["shout_suffix"]


print(type(greet).__name__, greet.task_type, greet.task_type_version, greet.custom_config(None))
print(flyte.run(greet, name="flyte").outputs()[0])

from {DIST}.types import Money  # the class only; the engine finds its transformer

money_env = flyte.TaskEnvironment(name="money")


@money_env.task
async def double(m: Money) -> Money:
    return Money(m.cents * 2)


print(flyte.run(double, m=Money(1050)).outputs()[0])
"""


def write_plugin(root: Path) -> Path:
    for rel, text in FILES.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root


@pytest.fixture
def plugin_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = write_plugin(tmp_path / "site")
    monkeypatch.syspath_prepend(str(root))
    yield root
    for name in [m for m in sys.modules if m.startswith(DIST)]:
        del sys.modules[name]


def test_a_third_party_task_plugin_and_type_are_discovered_and_used(
    tmp_path: Path, subprocess_env: dict[str, str]
) -> None:
    # A fresh interpreter, as a user's script: nothing loaded the plugin before.
    root = write_plugin(tmp_path / "site")
    script = tmp_path / "uses_plugin.py"
    script.write_text(SCRIPT)
    env = dict(subprocess_env)
    env["PYTHONPATH"] = f"{root}:{env['PYTHONPATH']}"
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "ShoutTask shout 2 {'suffix': '?!'}",
        "HELLO FLYTE ?!?!",
        "Money(21.00)",
    ]


def test_task_plugins_are_loaded_on_demand(plugin_on_path: Path) -> None:
    from thirdparty_flyte_plugin.config import Shout  # type: ignore[import-not-found]

    import flyte

    try:
        assert TaskPluginRegistry.find(Shout) is None
        env = flyte.TaskEnvironment(name="on_demand", plugin_config=Shout())

        @env.task
        def f() -> str:
            return "x"

        assert type(f).__name__ == "ShoutTask"
        assert sys.modules[f"{DIST}.tasks"].LOADED
        assert plugins.load_task_plugins() == []  # already loaded: each entry point once
    finally:
        TaskPluginRegistry.unregister(Shout)


def test_unregistered_config_without_entry_point_is_a_clear_error() -> None:
    import flyte

    class Unknown:
        pass

    with pytest.raises(ValueError, match="no registered task plugin; import the plugin package"):
        env = flyte.TaskEnvironment(name="unknown_plugin", plugin_config=Unknown())
        env.task(lambda: None)


def test_cli_commands_and_hooks_for_the_cli(
    plugin_on_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    commands = {p.name: p for p in plugins.cli_commands()}
    assert sorted(commands) == ["get.thing", "hello"]  # a.b.c: too deep; broken: cannot load
    assert commands["hello"].obj() == "hello command"
    assert commands["get.thing"].distribution == "thirdparty-flyte-plugin"
    hooks = plugins.cli_hooks()
    assert [h.name for h in hooks] == ["run"]  # deploy: not callable
    assert hooks[0].obj("cmd") == ("wrapped", "cmd")
    logged = caplog.text
    assert "'a.b.c' has more than one dot" in logged
    assert "Could not load the flyte.plugins.cli.commands plugin 'broken'" in logged
    assert "'deploy' is not callable" in logged


def test_image_builders_and_type_plugins(plugin_on_path: Path) -> None:
    builders = plugins.image_builders()
    assert [b.name for b in builders] == ["echo"]
    assert builders[0].obj.__name__ == "EchoBuilder"


def test_type_plugins_load_once(plugin_on_path: Path) -> None:
    from flyte_types import TypeEngine

    first = plugins.load_type_plugins()
    assert "money" in first
    money = sys.modules[f"{DIST}.types"].Money
    assert TypeEngine.get_transformer(money).name == "Money"
    assert "money" not in plugins.load_type_plugins()  # each entry point once


def test_get_proto_resources() -> None:
    msg = plugins.get_proto_resources(Resources(cpu=("1", "2"), memory="1Gi", disk="5Gi"))
    assert msg is not None
    from flyteidl2.core import tasks_pb2

    rn = tasks_pb2.Resources.ResourceName
    assert [(e.name, e.value) for e in msg.requests] == [
        (rn.CPU, "1"),
        (rn.MEMORY, "1Gi"),
        (rn.EPHEMERAL_STORAGE, "5Gi"),
    ]
    assert [(e.name, e.value) for e in msg.limits] == [(rn.CPU, "2")]
    assert plugins.get_proto_resources(None) is None
    assert plugins.get_proto_resources(Resources()) is None


def test_lazy_module_defers_the_import(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    mod = plugins.lazy_module("colorsys")
    assert type(mod).__name__ == "_LazyModule"  # not executed yet
    assert mod.rgb_to_hsv(1, 0, 0) == (0.0, 1.0, 1)
    with pytest.raises(ModuleNotFoundError, match="no_such_module_x"):
        plugins.lazy_module("no_such_module_x")


def test_flyte_extend_exposes_the_interface() -> None:
    import flyte.extend

    for name in flyte.extend.__all__:
        assert getattr(flyte.extend, name) is not None
    assert flyte.extend.TaskPluginRegistry is TaskPluginRegistry

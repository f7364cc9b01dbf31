"""`flyte` without a control plane: local runs with typed parameters, help, config files, errors.

Every test runs the command as a subprocess (`python -m flyte_cli`), as a person would.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import yaml

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

TYPED = '''
import datetime
import enum
from dataclasses import dataclass

import flyte
from flyte.io import Dir, File

env = flyte.TaskEnvironment(name="typed")


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclass
class Point:
    x: int
    y: int = 0


@env.task
async def scalars(n: int, rate: float = 0.5, name: str = "world", loud: bool = False) -> str:
    """Echo scalars."""
    return f"n={n} rate={rate} name={name} loud={loud}"


@env.task
async def times(when: datetime.datetime, wait: datetime.timedelta = datetime.timedelta(seconds=3)) -> str:
    return f"{when.isoformat()} {wait.total_seconds()}"


@env.task
async def shapes(xs: list[int], m: dict[str, float], color: Color = Color.RED, p: Point | None = None) -> str:
    return f"{sum(xs)} {sorted(m.items())} {color.name} {p}"


@env.task
async def blobs(f: File, d: Dir) -> str:
    async with f.open("rb") as fh:
        data = await fh.read()
    names = sorted([Path_(x.path).name async for x in d.walk()])
    return f"{data.decode()} {names}"


def Path_(p):
    import pathlib
    return pathlib.Path(p)
'''


def _write(project_dir: Path) -> None:
    (project_dir / "typed.py").write_text(TYPED)


def test_hello_example_runs_locally_and_prints_outputs(
    flyte_cmd: Callable, project_dir: Path
) -> None:
    (project_dir / "hello.py").write_text((EXAMPLES / "hello.py").read_text())
    r = flyte_cmd("run", "--local", "hello.py", "main", "--n", "5", "--name", "flyte")
    assert r.code == 0, r
    assert "succeeded locally" in r.out
    assert "o0: [0, 1, 4, 9, 16]" in r.out
    assert "o1: HELLO! FLYTE!" in r.out


def test_scalar_parameters_are_parsed_by_type(flyte_cmd: Callable, project_dir: Path) -> None:
    _write(project_dir)
    r = flyte_cmd("run", "--local", "typed.py", "scalars", "--n", "3", "--rate", "1.25", "--loud")
    assert r.code == 0, r
    assert "n=3 rate=1.25 name=world loud=True" in r.out


def test_dates_and_durations(flyte_cmd: Callable, project_dir: Path) -> None:
    _write(project_dir)
    r = flyte_cmd(
        "run", "--local", "typed.py", "times", "--when", "2024-05-01T10:30:00", "--wait", "1h30m"
    )
    assert r.code == 0, r
    assert "2024-05-01T10:30:00+00:00 5400.0" in r.out
    r = flyte_cmd("run", "--local", "typed.py", "times", "--when", "2024-05-01", "--wait", "PT5M")
    assert r.code == 0, r
    assert "300.0" in r.out


def test_json_enum_and_dataclass_parameters(flyte_cmd: Callable, project_dir: Path) -> None:
    _write(project_dir)
    r = flyte_cmd(
        "run",
        "--local",
        "typed.py",
        "shapes",
        "--xs",
        "[1, 2, 3]",
        "--m",
        '{"b": 2, "a": 1.5}',
        "--color",
        "blue",
        "--p",
        '{"x": 4}',
    )
    assert r.code == 0, r
    assert "6 [('a', 1.5), ('b', 2.0)] BLUE Point(x=4, y=0)" in r.out
    # a dataclass from a JSON file
    (project_dir / "p.json").write_text(json.dumps({"x": 7, "y": 8}))
    r = flyte_cmd(
        "run", "--local", "typed.py", "shapes", "--xs", "[]", "--m", "{}", "--p", "p.json"
    )
    assert r.code == 0, r
    assert "Point(x=7, y=8)" in r.out


def test_file_and_dir_parameters_from_local_paths(flyte_cmd: Callable, project_dir: Path) -> None:
    _write(project_dir)
    (project_dir / "in.txt").write_text("payload")
    (project_dir / "data").mkdir()
    (project_dir / "data" / "a.csv").write_text("1")
    (project_dir / "data" / "b.csv").write_text("2")
    r = flyte_cmd("run", "--local", "typed.py", "blobs", "--f", "in.txt", "--d", "data")
    assert r.code == 0, r
    assert "payload ['a.csv', 'b.csv']" in r.out


def test_task_help_lists_typed_options_with_defaults(
    flyte_cmd: Callable, project_dir: Path
) -> None:
    _write(project_dir)
    r = flyte_cmd("run", "typed.py", "scalars", "--help")
    assert r.code == 0, r
    assert "--n INTEGER" in r.out and "[required]" in r.out
    assert "--rate FLOAT" in r.out and "[default: 0.5]" in r.out
    assert "--loud / --no-loud" in r.out
    assert "Echo scalars." in r.out
    r = flyte_cmd("run", "typed.py", "shapes", "--help")
    assert "[RED|BLUE]" in r.out and "[default: RED]" in r.out
    r = flyte_cmd("run", "typed.py", "--help")
    assert r.code == 0, r
    for name in ("blobs", "scalars", "shapes", "times"):
        assert name in r.out


def test_bad_parameter_value_is_one_clear_usage_error(
    flyte_cmd: Callable, project_dir: Path
) -> None:
    _write(project_dir)
    r = flyte_cmd("run", "--local", "typed.py", "scalars", "--n", "three")
    assert r.code == 2
    assert "Invalid value for '--n'" in r.err and "three" in r.err
    assert "Traceback" not in r.err
    r = flyte_cmd("run", "--local", "typed.py", "times", "--when", "2024-05-01", "--wait", "soon")
    assert r.code == 2 and "not a duration" in r.err
    r = flyte_cmd("run", "--local", "typed.py", "shapes", "--xs", "[1,", "--m", "{}")
    assert r.code == 2 and "not valid JSON" in r.err
    r = flyte_cmd(
        "run", "--local", "typed.py", "shapes", "--xs", "[]", "--m", "{}", "--color", "green"
    )
    assert r.code == 2 and "green" in r.err
    r = flyte_cmd("run", "--local", "typed.py", "scalars")
    assert r.code == 2 and "Missing option '--n'" in r.err


def test_missing_file_and_missing_task(flyte_cmd: Callable, project_dir: Path) -> None:
    _write(project_dir)
    r = flyte_cmd("run", "--local", "nope.py", "main")
    assert r.code == 2 and "file not found: nope.py" in r.err
    r = flyte_cmd("run", "--local", "typed.py", "nothere")
    assert r.code == 2
    assert "no task 'nothere' in typed.py" in r.err and "scalars" in r.err
    assert "Traceback" not in r.err


def test_task_failure_is_one_line_and_traceback_with_verbose(
    flyte_cmd: Callable, project_dir: Path
) -> None:
    (project_dir / "boom.py").write_text(
        "import flyte\nenv = flyte.TaskEnvironment(name='boom')\n\n"
        "@env.task\nasync def boom(x: int) -> int:\n    raise ValueError(f'bad x {x}')\n"
    )
    r = flyte_cmd("run", "--local", "boom.py", "boom", "--x", "1")
    assert r.code == 1, r
    assert "bad x 1" in r.err
    assert "Traceback" not in r.err
    r = flyte_cmd("-v", "run", "--local", "boom.py", "boom", "--x", "1")
    assert r.code == 1 and "Traceback" in r.err


def test_without_a_control_plane_run_falls_back_to_local(
    flyte_cmd: Callable, project_dir: Path
) -> None:
    _write(project_dir)
    r = flyte_cmd("run", "typed.py", "scalars", "--n", "1")
    assert r.code == 0, r
    assert "running locally" in r.err
    assert "n=1" in r.out


def test_unreachable_endpoint_is_one_clear_error(flyte_cmd: Callable, project_dir: Path) -> None:
    r = flyte_cmd("--endpoint", "dns:///127.0.0.1:9", "--insecure", "get", "project", timeout=120)
    assert r.code == 1, r
    assert "unreachable" in r.err
    assert "Traceback" not in r.err


def test_create_config_then_get_config(flyte_cmd: Callable, project_dir: Path) -> None:
    r = flyte_cmd(
        "create",
        "config",
        "--endpoint",
        "dns:///127.0.0.1:30080",
        "--insecure",
        "-p",
        "proj1",
        "-d",
        "staging",
        "--builder",
        "remote",
        "--registry",
        "ghcr.io/acme",
    )
    assert r.code == 0, r
    written = yaml.safe_load((project_dir / ".flyte" / "config.yaml").read_text())
    assert written == {
        "admin": {"endpoint": "dns:///127.0.0.1:30080", "insecure": True},
        "image": {"builder": "remote", "registry": "ghcr.io/acme"},
        "task": {"project": "proj1", "domain": "staging"},
    }
    r = flyte_cmd("create", "config", "--endpoint", "x")
    assert r.code == 2 and "--force" in r.err
    r = flyte_cmd("get", "config", "--output", "json")
    assert r.code == 0, r
    cfg = json.loads(r.out)
    assert cfg["endpoint"] == "dns:///127.0.0.1:30080"
    assert cfg["insecure"] is True
    assert cfg["project"] == "proj1" and cfg["domain"] == "staging"
    assert cfg["image_builder"] == "remote"
    assert cfg["config_file"].endswith(".flyte/config.yaml")
    # the global options win over the file
    r = flyte_cmd("--endpoint", "dns:///other:1", "-p", "p2", "-of", "json", "get", "config")
    cfg = json.loads(r.out)
    assert cfg["endpoint"] == "dns:///other:1" and cfg["project"] == "p2"


def test_create_config_devbox_matches_the_devbox_client_config(
    flyte_cmd: Callable, project_dir: Path
) -> None:
    r = flyte_cmd("create", "config", "--devbox", "-o", "dev.yaml")
    assert r.code == 0, r
    written = yaml.safe_load((project_dir / "dev.yaml").read_text())
    assert written["admin"] == {"endpoint": "dns:///127.0.0.1:30080", "insecure": True}
    assert written["task"] == {"project": "flytesnacks", "domain": "development"}
    assert written["image"] == {"builder": "local"}


def test_missing_explicit_config_file(flyte_cmd: Callable) -> None:
    r = flyte_cmd("-c", "missing.yaml", "get", "config")
    assert r.code == 2 and "missing.yaml" in r.err


def test_top_level_help_and_version(flyte_cmd: Callable) -> None:
    r = flyte_cmd("--help")
    assert r.code == 0
    verbs = ("run", "deploy", "build", "get", "abort", "create", "delete", "update", "start")
    for verb in (*verbs, "rerun", "whoami", "stop", "signal"):
        assert f"  {verb} " in r.out
    r = flyte_cmd("--version")
    assert r.code == 0 and r.out.startswith("flyte ")


def test_help_does_not_import_the_runtime(project_dir: Path, child_env: dict[str, str]) -> None:
    import subprocess
    import sys

    code = (
        "import sys\nfrom flyte_cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('flyte_runtime', 'flyte_client', 'grpc', 'rich', 'google.protobuf', 'flyte_types') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=child_env, capture_output=True, text=True, cwd=project_dir
    )
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr


def test_shell_completion(flyte_cmd: Callable) -> None:
    r = flyte_cmd("--show-completion", "bash")
    assert r.code == 0 and "_FLYTE_COMPLETE" in r.out
    r = flyte_cmd(
        env={"_FLYTE_COMPLETE": "bash_complete", "COMP_WORDS": "flyte ge", "COMP_CWORD": "1"}
    )
    assert r.code == 0, r
    assert "get" in r.out


def test_build_dry_run_prints_the_dockerfile_and_no_builder_error(
    flyte_cmd: Callable, project_dir: Path
) -> None:
    (project_dir / "img.py").write_text(
        "import flyte\nimage = flyte.Image.from_debian_base(python_version=(3, 11)).with_pip_packages('requests')\n"
        "env = flyte.TaskEnvironment(name='img', image=image)\n\n"
        "@env.task\nasync def t() -> int:\n    return 1\n"
    )
    r = flyte_cmd("build", "img.py", "img", "--dry-run")
    assert r.code == 0, r
    assert "FROM" in r.out and "requests" in r.out
    r = flyte_cmd("build", "img.py", "nope")
    assert r.code == 2 and "neither an environment" in r.err
    # a builder that does not exist: one clear line naming it
    r = flyte_cmd("--builder", "no-such-builder", "build", "img.py", "img")
    assert r.code == 1, r
    assert "no-such-builder" in r.err and "Traceback" not in r.err


def test_deploy_dry_run_without_a_control_plane(flyte_cmd: Callable, project_dir: Path) -> None:
    (project_dir / "hello.py").write_text((EXAMPLES / "hello.py").read_text())
    r = flyte_cmd("deploy", "--dry-run", "hello.py")
    assert r.code == 0, r
    for task in ("hello.main", "hello.square", "hello.shout"):
        assert task in r.out
    r = flyte_cmd("deploy", "--dry-run", "hello.py", "nope")
    assert r.code == 2 and "no environment 'nope'" in r.err

"""Check every wheel built by `./pants package ::` (STYLE §4.4).

Static checks on the METADATA and file lists of the wheels in ``dist/``:

1. every ``flyte-*`` requirement of every wheel is pinned ``==`` the shared version;
2. the ``flyte`` meta wheel requires all eight libraries and ships no code;
3. each wheel ships only its own top-level packages (no ``tests``, no sibling's files);
4. the ``flyte-runtime`` closure among our wheels never reaches flyte-imagebuild, flyte-cli,
   flyte-devbox, click, rich or docker.

With ``--install`` it also installs wheels into throwaway virtualenvs (pip, from the registry
for third-party packages) and proves that:

* ``flyte-models`` alone gives a working ``import flyte_models``;
* ``flyte-runtime`` (with its sibling wheels) installs a closure without click, rich, docker or
  flyte-imagebuild, and ``import flyte`` works there.

Exit status 1 with one line per problem on failure.
"""

from __future__ import annotations

import argparse
import email.parser
import os
import re
import subprocess
import sys
import tempfile
import venv
import zipfile
from pathlib import Path

LIBRARIES = {
    "flyte-models": {"flyte_models"},
    "flyte-storage": {"flyte_storage"},
    "flyte-types": {"flyte_types"},
    "flyte-client": {"flyte_client"},
    "flyte-runtime": {"flyte_runtime", "flyte"},
    "flyte-imagebuild": {"flyte_imagebuild"},
    "flyte-devbox": {"flyte_devbox"},
    "flyte-cli": {"flyte_cli"},
}
# Plugin distributions: versioned with the libraries, not pinned by the meta-package. Their
# packages live in the `flyteplugins` namespace (PEP 420: no flyteplugins/__init__.py).
PLUGINS = {
    "flyteplugins-dask": {"flyteplugins"},
}
META = "flyte"
SYSTEM_CA = "/etc/ssl/certs/ca-certificates.crt"
FORBIDDEN_IN_RUNTIME = {"click", "rich", "docker", "flyte-imagebuild", "flyte-cli", "flyte-devbox"}


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_version(root: Path) -> str:
    text = (root / "build-support" / "macros.py").read_text()
    match = re.search(r'^FLYTE_VERSION = "([^"]+)"', text, re.M)
    if not match:
        raise SystemExit("build-support/macros.py: FLYTE_VERSION not found")
    return match.group(1)


class Wheel:
    def __init__(self, path: Path) -> None:
        self.path = path
        with zipfile.ZipFile(path) as zf:
            self.files = zf.namelist()
            meta_name = next(n for n in self.files if n.endswith(".dist-info/METADATA"))
            meta = email.parser.Parser().parsestr(zf.read(meta_name).decode())
        self.name = canonical(meta["Name"])
        self.version = meta["Version"]
        self.requires = [r for r in meta.get_all("Requires-Dist") or []]

    def hard_requirements(self) -> dict[str, str]:
        """Requirement name -> specifier, leaving out extras-only requirements."""
        out = {}
        for req in self.requires:
            if "extra ==" in req:
                continue
            m = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(\[[^\]]*\])?\s*\(?([^;)]*)\)?", req)
            if m:
                out[canonical(m.group(1))] = m.group(3).strip()
        return out

    def top_levels(self) -> set[str]:
        tops = set()
        for f in self.files:
            first = f.split("/", 1)[0]
            if first.endswith((".dist-info", ".data")):
                continue
            tops.add(first.removesuffix(".py"))
        return tops


def static_checks(wheels: dict[str, Wheel], version: str) -> list[str]:
    problems: list[str] = []
    expected = set(LIBRARIES) | set(PLUGINS) | {META}
    missing = expected - set(wheels)
    if missing:
        problems.append(f"missing wheels: {sorted(missing)}")
    for name, whl in sorted(wheels.items()):
        if whl.version != version:
            problems.append(f"{whl.path.name}: version {whl.version} != {version}")
        for req, spec in whl.hard_requirements().items():
            if req in expected and spec != f"=={version}":
                problems.append(f"{whl.path.name}: sibling pin {req}{spec!r} is not =={version}")
        stubs = sorted(r for r in whl.hard_requirements() if r.startswith("types-"))
        if stubs:
            problems.append(f"{whl.path.name}: requires type-stub packages {stubs} at install")
        tops = whl.top_levels()
        allowed = LIBRARIES.get(name) or PLUGINS.get(name, set())
        if tops != allowed:
            problems.append(
                f"{whl.path.name}: top-level packages {sorted(tops)} != {sorted(allowed)}"
            )
        bad = [
            f for f in whl.files if re.search(r"(^|/)(tests?|conftest\.py|test_[^/]*\.py)(/|$)", f)
        ]
        if bad:
            problems.append(f"{whl.path.name}: ships test files {bad[:5]}")
    # Every source file of a library is in its wheel: a module that nothing imports statically
    # (an entry point, a compatibility path, a plugin) is easy to leave out of a distribution.
    root = Path(__file__).resolve().parents[2]
    for name, whl in sorted(wheels.items()):
        src = root / "libs" / name / "src"
        if (name not in LIBRARIES and name not in PLUGINS) or not src.is_dir():
            continue
        shipped = set(whl.files)
        unshipped = sorted(
            str(p.relative_to(src))
            for p in src.rglob("*.py")
            if "__pycache__" not in p.parts and str(p.relative_to(src)) not in shipped
        )
        if unshipped:
            problems.append(f"{whl.path.name}: missing source files {unshipped}")
    meta = wheels.get(META)
    if meta:
        reqs = meta.hard_requirements()
        for lib in LIBRARIES:
            if reqs.get(lib) != f"=={version}":
                problems.append(f"{meta.path.name}: does not require {lib}=={version}")
    # The runtime closure among our own wheels (third-party closure is checked by --install).
    seen, todo = set(), ["flyte-runtime"]
    while todo:
        cur = todo.pop()
        if cur in seen:
            continue
        seen.add(cur)
        dep = wheels.get(cur)
        if dep:
            todo.extend(
                r for r in dep.hard_requirements() if r in wheels or r in FORBIDDEN_IN_RUNTIME
            )
    leaked = seen & FORBIDDEN_IN_RUNTIME
    if leaked:
        problems.append(f"flyte-runtime requires (transitively) {sorted(leaked)}")
    return problems


def _venv(tmp: Path, name: str) -> Path:
    path = tmp / name
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    return path / "bin" / "python"


def _pip(python: Path, *args: str) -> None:
    cmd = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args]
    env = dict(os.environ)
    # This machine kind reaches PyPI through a TLS proxy whose CA is only in the system bundle.
    if Path(SYSTEM_CA).exists():
        env.setdefault("PIP_CERT", SYSTEM_CA)
    subprocess.run(cmd, check=True, env=env)


def install_checks(wheels: dict[str, Wheel]) -> list[str]:
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="wheelcheck-") as tmpdir:
        tmp = Path(tmpdir)
        py = _venv(tmp, "models")
        _pip(py, str(wheels["flyte-models"].path))
        proc = subprocess.run(
            [str(py), "-c", "import flyte_models, sys; print(flyte_models.__version__)"],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            problems.append(f"flyte-models alone: import failed: {proc.stderr.strip()[-500:]}")
        py = _venv(tmp, "runtime")
        find_links = str(wheels["flyte-runtime"].path.parent)
        _pip(py, "--find-links", find_links, str(wheels["flyte-runtime"].path))
        proc = subprocess.run(
            [str(py), "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True
        )
        installed = {canonical(line.split("==")[0]) for line in proc.stdout.splitlines() if line}
        leaked = installed & FORBIDDEN_IN_RUNTIME
        if leaked:
            problems.append(f"pip install flyte-runtime pulled in {sorted(leaked)}")
        proc = subprocess.run(
            [str(py), "-c", "import flyte, flyte_runtime; print(flyte.__version__)"],
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            problems.append(f"flyte-runtime: import flyte failed: {proc.stderr.strip()[-500:]}")
        print(
            f"flyte-runtime closure: {len(installed)} distributions: {' '.join(sorted(installed))}"
        )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", default="dist", type=Path)
    parser.add_argument("--install", action="store_true", help="also install into fresh venvs")
    args = parser.parse_args()
    root = Path(__file__).resolve().parents[2]
    version = read_version(root)
    paths = sorted(args.dist.glob("*.whl"))
    wheels = {}
    for p in paths:
        w = Wheel(p)
        wheels[w.name] = w
    problems = static_checks(wheels, version)
    if not problems and args.install:
        problems += install_checks(wheels)
    for p in problems:
        print(f"wheel check: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"wheel check: {len(wheels)} wheels OK (version {version})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

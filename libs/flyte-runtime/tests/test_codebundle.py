"""Code bundle creation: which files go in, and a reproducible archive (same sources, same md5)."""

from __future__ import annotations

import gzip
import io
import os
import pickle
import subprocess
import sys
import tarfile
import types
from pathlib import Path

import pytest

from flyte_runtime import _codebundle as cb


def _tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _members(data: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tf:
        return {m.name: m for m in tf.getmembers()}


def test_same_sources_give_the_same_bytes_whatever_the_mtimes(tmp_path: Path) -> None:
    _tree(tmp_path, {"a.py": "x = 1\n", "pkg/__init__.py": "", "pkg/b.py": "y = 2\n"})
    first = cb.build_tgz_bundle(tmp_path, "all")
    for p in tmp_path.rglob("*.py"):
        os.utime(p, (1_000_000, 1_000_000))
    second = cb.build_tgz_bundle(tmp_path, "all")
    assert first.data == second.data and first.md5_hex == second.md5_hex
    assert first.filename == f"fast{first.md5_hex}.tar.gz"
    members = _members(first.data)
    assert sorted(members) == ["a.py", "pkg/__init__.py", "pkg/b.py"]
    assert all(
        m.mtime == 0 and m.uid == 0 and m.gid == 0 and m.uname == "" for m in members.values()
    )
    # A change in content changes the digest.
    (tmp_path / "a.py").write_text("x = 3\n")
    assert cb.build_tgz_bundle(tmp_path, "all").md5 != first.md5


def test_flyteignore_gitignore_and_fixed_ignores(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "keep.py": "",
            "secret.env": "",
            "data/big.csv": "",
            "data/small.txt": "",
            "sub/notes.md": "",
            "__pycache__/keep.cpython-311.pyc": "",
            ".venv/lib/x.py": "",
            ".flyteignore": "*.env\ndata/\n",
            "sub/.gitignore": "notes.md\n",
        },
    )
    files = set(cb.build_tgz_bundle(tmp_path, "all").files)
    assert files == {"keep.py", ".flyteignore", "sub/.gitignore"}


def test_gitignore_through_git_in_a_repository(tmp_path: Path) -> None:
    if subprocess.run(["git", "--version"], capture_output=True).returncode != 0:
        pytest.skip("git is not installed")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    _tree(
        tmp_path,
        {"a.py": "", "build/out.py": "", ".gitignore": "build/\n!a.py\n*.log\n", "x.log": ""},
    )
    files = set(cb.build_tgz_bundle(tmp_path, "all").files)
    assert files == {"a.py", ".gitignore"}


def test_loaded_modules_under_the_root_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(
        tmp_path,
        {"app/__init__.py": "", "app/tasks.py": "", "app/unused.py": "", "other.py": ""},
    )
    mods = []
    for name, rel in (("app", "app/__init__.py"), ("app.tasks", "app/tasks.py")):
        m = types.ModuleType(name)
        m.__file__ = str(tmp_path / rel)
        mods.append(m)
    mods.append(types)  # the standard library is never bundled
    bundle = cb.build_tgz_bundle(tmp_path, "loaded_modules", modules=mods)
    assert bundle.files == ("app/__init__.py", "app/tasks.py")


def test_nothing_to_bundle_and_bad_style_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no source files"):
        cb.build_tgz_bundle(tmp_path, "loaded_modules", modules=[])
    with pytest.raises(ValueError, match="copy_style"):
        cb.build_tgz_bundle(tmp_path, "everything")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a directory"):
        cb.build_tgz_bundle(tmp_path / "missing", "all")


def test_extra_files_must_be_under_the_root(tmp_path: Path) -> None:
    _tree(tmp_path, {"a.py": "", "conf/settings.yaml": "k: v\n"})
    bundle = cb.build_tgz_bundle(
        tmp_path, "loaded_modules", modules=[], extra_files=["conf/settings.yaml"]
    )
    assert bundle.files == ("conf/settings.yaml",)
    with pytest.raises(ValueError, match="not a file under root_dir"):
        cb.build_tgz_bundle(tmp_path, "all", extra_files=[sys.executable])


def test_environment_include_files_are_resolved_from_the_declaring_file(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "app/envs.py": "",
            "app/report_template.html": "<html/>",
            "app/data/a.csv": "1",
            "app/data/sub/b.csv": "2",
            "app/conf/x.yaml": "k: v",
            "app/conf/y.yaml": "k: w",
            "shared/base.txt": "b",
        },
    )
    base = types.SimpleNamespace(
        name="base",
        include=(str(tmp_path / "shared" / "base.txt"),),  # absolute
        depends_on=[],
        declaring_file=None,
    )
    env = types.SimpleNamespace(
        name="reports",
        include=("report_template.html", "data", "conf/*.yaml"),
        depends_on=[base],
        declaring_file=str(tmp_path / "app" / "envs.py"),
    )
    files = cb.env_include_files([env, env])
    rel = sorted(str(f.relative_to(tmp_path)) for f in files)
    assert rel == [
        "app/conf/x.yaml",
        "app/conf/y.yaml",
        "app/data/a.csv",
        "app/data/sub/b.csv",
        "app/report_template.html",
        "shared/base.txt",
    ]
    bundle = cb.build_tgz_bundle(tmp_path, "loaded_modules", modules=[], extra_files=files)
    assert "app/report_template.html" in bundle.files
    missing = types.SimpleNamespace(
        name="bad", include=("nope.html",), depends_on=[], declaring_file=env.declaring_file
    )
    with pytest.raises(ValueError, match="'nope.html' of environment 'bad' matches no file"):
        cb.env_include_files([missing])


def test_pkl_bundle_round_trips(tmp_path: Path) -> None:
    bundle = cb.build_pkl_bundle({"answer": 42})
    assert bundle.kind == "pkl" and bundle.filename.endswith(".pkl.gz")
    assert pickle.loads(gzip.decompress(bundle.data)) == {"answer": 42}
    path = bundle.write_to(tmp_path / "out")
    assert path.read_bytes() == bundle.data

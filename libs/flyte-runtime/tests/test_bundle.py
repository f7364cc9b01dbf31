"""Code bundles are unpacked only when every member stays inside the destination."""

from __future__ import annotations

import gzip
import io
import pickle
import tarfile
from pathlib import Path

import pytest

from flyte_runtime._bundle import (
    MAX_BYTES_ENV,
    MAX_MEMBERS_ENV,
    BundleFetchError,
    UnsafeBundleError,
    extract_tgz,
    fetch_and_extract,
    load_pkl,
)


def _file(name: str, data: bytes = b"x = 1\n") -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    return info, data


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info, b""


def make_tgz(path: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    with tarfile.open(path, "w:gz") as tf:
        for info, data in members:
            tf.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return path


@pytest.fixture
def dest(tmp_path: Path) -> Path:
    return tmp_path / "work" / "dest"


def test_good_bundle_is_unpacked(tmp_path: Path, dest: Path) -> None:
    archive = make_tgz(
        tmp_path / "b.tgz",
        [
            _file("pkg/__init__.py", b""),
            _file("pkg/mod.py", b"VALUE = 42\n"),
            _link("pkg/alias.py", "mod.py"),
            _link("pkg/hard.py", "pkg/mod.py", tarfile.LNKTYPE),
        ],
    )
    names = extract_tgz(str(archive), str(dest))
    assert set(names) == {"pkg/__init__.py", "pkg/mod.py", "pkg/alias.py", "pkg/hard.py"}
    assert (dest / "pkg/mod.py").read_text() == "VALUE = 42\n"
    assert (dest / "pkg/alias.py").is_symlink()
    assert (dest / "pkg/alias.py").read_text() == "VALUE = 42\n"
    assert (dest / "pkg/hard.py").read_text() == "VALUE = 42\n"


def test_file_uri_and_missing_bundle(tmp_path: Path, dest: Path) -> None:
    archive = make_tgz(tmp_path / "b.tgz", [_file("m.py")])
    assert fetch_and_extract(f"file://{archive}", str(dest)) == str(dest)
    assert (dest / "m.py").exists()
    with pytest.raises(BundleFetchError, match="does not exist"):
        fetch_and_extract(str(tmp_path / "missing.tgz"), str(dest))


@pytest.mark.parametrize(
    ("members", "offender", "why"),
    [
        ([_file("ok.py"), _file("../evil.py")], "../evil.py", "'..'"),
        ([_file("a/../../evil.py")], "a/../../evil.py", "'..'"),
        ([_file("/tmp/evil.py")], "/tmp/evil.py", "absolute"),
        ([_link("esc", "../../outside")], "esc", "symlink escaping"),
        ([_link("abs", "/etc/passwd")], "abs", "absolute"),
        ([_link("h", "../outside.txt", tarfile.LNKTYPE)], "h", "hard link"),
        ([_link("h", "/etc/passwd", tarfile.LNKTYPE)], "h", "hard link"),
    ],
)
def test_escaping_members_are_refused_before_anything_is_written(
    tmp_path: Path,
    dest: Path,
    members: list[tuple[tarfile.TarInfo, bytes]],
    offender: str,
    why: str,
) -> None:
    archive = make_tgz(tmp_path / "b.tgz", members)
    with pytest.raises(UnsafeBundleError) as e:
        extract_tgz(str(archive), str(dest))
    assert repr(offender) in str(e.value) and why in str(e.value)
    assert e.value.code == "UnsafeCodeBundle" and e.value.kind == "system"
    assert list(dest.iterdir()) == []  # the archive was refused as a whole
    assert not (tmp_path / "work" / "evil.py").exists()


def test_symlink_chain_resolving_outside_is_refused(tmp_path: Path, dest: Path) -> None:
    # Each link looks harmless by name ("." and "s1/.."), but s2 resolves to dest's parent.
    archive = make_tgz(
        tmp_path / "b.tgz", [_link("s1", "."), _link("s2", "s1/.."), _file("s2/evil.py")]
    )
    with pytest.raises(UnsafeBundleError, match="'s2'.*outside|'s2'.*escaping"):
        extract_tgz(str(archive), str(dest))
    assert not (tmp_path / "work" / "evil.py").exists()


def test_device_files_are_refused(tmp_path: Path, dest: Path) -> None:
    dev = tarfile.TarInfo("null")
    dev.type = tarfile.CHRTYPE
    dev.devmajor, dev.devminor = 1, 3
    archive = make_tgz(tmp_path / "b.tgz", [(dev, b"")])
    with pytest.raises(UnsafeBundleError, match="'null' is a device file"):
        extract_tgz(str(archive), str(dest))


def test_oversized_bundles_are_refused(
    tmp_path: Path, dest: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = make_tgz(tmp_path / "b.tgz", [_file(f"f{i}.py", b"0" * 1000) for i in range(5)])
    monkeypatch.setenv(MAX_MEMBERS_ENV, "4")
    with pytest.raises(UnsafeBundleError, match=f"more than 4 members.*'f4.py'.*{MAX_MEMBERS_ENV}"):
        extract_tgz(str(archive), str(dest))
    monkeypatch.delenv(MAX_MEMBERS_ENV)
    monkeypatch.setenv(MAX_BYTES_ENV, "2500")
    with pytest.raises(UnsafeBundleError, match=f"more than 2500 bytes.*'f2.py'.*{MAX_BYTES_ENV}"):
        extract_tgz(str(archive), str(dest))
    assert list(dest.iterdir()) == []
    monkeypatch.setenv(MAX_BYTES_ENV, "5000")
    assert len(extract_tgz(str(archive), str(dest))) == 5


def test_corrupt_archive_is_a_fetch_error(tmp_path: Path, dest: Path) -> None:
    bad = tmp_path / "bad.tgz"
    bad.write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(BundleFetchError, match="cannot unpack"):
        extract_tgz(str(bad), str(dest))


def test_pkl_bundles_plain_and_gzipped(tmp_path: Path) -> None:
    value = {"task": [1, 2, 3]}
    plain = tmp_path / "t.pkl"
    plain.write_bytes(pickle.dumps(value))
    zipped = tmp_path / "t.pkl.gz"
    zipped.write_bytes(gzip.compress(pickle.dumps(value)))
    assert load_pkl(str(plain)) == value
    assert load_pkl(f"file://{zipped}") == value

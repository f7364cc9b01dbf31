# BUILD-file prelude (not importable Python): the shared version and the library macro.
# Every flyte-* distribution carries FLYTE_VERSION; each library's _version.py holds the same
# string and build-support/release/check_versions.py keeps them equal (STYLE C17).

FLYTE_VERSION = "1!0+dev"  # dev sentinel on main; the release job rewrites it from the v<semver> tag


_TYPE_STUBS = ("types-PyYAML", "types-croniter")


def flyte_library(name, description, entry_points=None, extra_deps=(), extras=None, has_code=True, **kwargs):
    """Declare the wheel and sdist of one libs/<name> directory (this BUILD sits at the lib root)."""
    pkg = name.replace("-", "_")
    deps = [f"libs/{name}/src/{pkg}"] if has_code else []
    # Type-stub packages are inferred next to the modules they type (for mypy); a wheel must not
    # require them at install time.
    deps += [f"!!//3rdparty/python:reqs#{stub}" for stub in _TYPE_STUBS]
    python_distribution(
        name="dist",
        dependencies=[*deps, *extra_deps],
        provides=python_artifact(
            name=name,
            version=FLYTE_VERSION,
            description=description,
            license="Apache-2.0",
            extras_require=extras or {},
        ),
        long_description_path=f"libs/{name}/README.md",
        entry_points=entry_points or {},
        wheel=True,
        sdist=True,
        **kwargs,
    )

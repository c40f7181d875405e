"""Files and the manifest behind :mod:`churnsurv.report`: atomic writes, hashes, provenance, locking.

Every file that :func:`~churnsurv.report.save_figure`, :func:`~churnsurv.report.save_table` and
:func:`~churnsurv.report.save_text` write is recorded in ``<fig_dir>/manifest.json`` with its SHA-256, the
notebook, its parameters, the input data's SHA-256 and the package versions; the report
(:func:`~churnsurv.report.render_report`) reads the manifest back and checks the hashes. The argument checks
shared by those functions live here too.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import io
import json
import math
import os
import platform
import re
import tempfile
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from pathlib import Path

try:  # POSIX only; on other platforms the read-modify-write is unlocked.
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

#: Environment variable through which :func:`run_notebook` tells the kernel
#: the notebook's name; :func:`save_figure` and friends read it when their
#: ``notebook`` argument is None.
NOTEBOOK_ENV = "CHURNSURV_NOTEBOOK"

MANIFEST_NAME = "manifest.json"
_MANIFEST_SCHEMA = 1
_MANIFEST_SECTIONS = ("figures", "tables", "texts")
_DEFAULT_DPI = 150
_VERSION_PACKAGES = ("churnsurv", "numpy", "pandas", "scipy", "matplotlib", "lifelines")
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
#: Column names of p-values and of counts in saved tables (written and shown specially).
_P_VALUE = re.compile(r"^(p|pvalue|p_value|p_adj|p_adjusted)(_.+)?$")
_COUNT = re.compile(r"^n(_.+)?$")


# --------------------------------------------------------------------------- #
# Internals: validation and JSON
# --------------------------------------------------------------------------- #
def _check_name(name, func: str) -> None:
    if not isinstance(name, str) or not _NAME_PATTERN.match(name):
        raise ValueError(
            f"The 'name' parameter of {func} must be a str of letters, digits, '_', '-' or '.', "
            f"starting with a letter or digit. Got {name!r} instead."
        )


def _check_caption(caption, func: str, param: str = "caption") -> None:
    if not isinstance(caption, str) or not caption.strip():
        raise ValueError(f"The '{param}' parameter of {func} must be a non-empty str. Got {caption!r} instead.")


def _check_dpi(dpi) -> int:
    if isinstance(dpi, bool) or not isinstance(dpi, int) or dpi <= 0:
        raise ValueError(f"The 'dpi' parameter of save_figure must be a positive int. Got {dpi!r} instead.")
    return dpi


def _json_safe(value, where: str):
    """Convert ``value`` to plain JSON types, or raise TypeError."""
    import numpy as np

    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else str(value)
    if isinstance(value, np.generic):
        return _json_safe(value.item(), where)
    if isinstance(value, np.ndarray):
        return _json_safe(value.tolist(), where)
    if isinstance(value, os.PathLike):
        return Path(value).as_posix()
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v, where) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v, where) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_json_safe(v, where) for v in value), key=repr)
    raise TypeError(
        f"The {where} must hold JSON-safe values (str, numbers, bool, None, paths, dates, lists, dicts). "
        f"Got {type(value).__name__} ({value!r:.60}). Record a str or number instead."
    )


# --------------------------------------------------------------------------- #
# Internals: files and manifest
# --------------------------------------------------------------------------- #
def _render_figure(fig, fmt: str, dpi: int, metadata: dict) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata, bbox_inches=None)
    return buffer.getvalue()


def _write_bytes(path: Path, content: bytes) -> Path:
    """Write atomically (temporary file + rename) so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp creates 0600 files
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _sha256_bytes(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _file_record(path: Path, root: Path, content: bytes) -> dict:
    return {"path": Path(os.path.relpath(path, root)).as_posix(), "sha256": _sha256_bytes(content)}


def _manifest_path(out_dir: Path, manifest) -> Path:
    return Path(manifest) if manifest is not None else out_dir / MANIFEST_NAME


def _versions() -> dict:
    versions = {"python": platform.python_version()}
    for package in _VERSION_PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    return versions


def _bundled_data_dir() -> Path | None:
    try:
        from churnsurv.data.datasets import data_dir

        return Path(os.path.normpath(data_dir().absolute()))
    except Exception:  # pragma: no cover - the report works without the data layer's folder
        return None


def _portable_path(path, cwd=None) -> tuple[str, str]:
    """A path without the machine's folders, and what it is relative to.

    Relative to the working directory (``cwd``; the report configuration's folder when a report runs) if the file
    is inside it, else relative to the bundled data folder, else the file name only. Returns ``(path, root)``
    with ``root`` one of ``"working directory"``, ``"bundled data folder"``, ``"file name only"``.
    """
    cwd = Path(os.path.normpath(Path(cwd if cwd is not None else os.getcwd()).absolute()))
    given = Path(path)
    absolute = Path(os.path.normpath(given if given.is_absolute() else cwd / given))
    roots = [("working directory", cwd), ("bundled data folder", _bundled_data_dir())]
    for label, root in roots:
        if root is None:
            continue
        try:
            return absolute.relative_to(root).as_posix(), label
        except ValueError:
            continue
    return absolute.name, "file name only"


def _portable_value(value):
    """``value`` with every absolute path string replaced by its :func:`_portable_path` (lists, dicts too)."""
    if isinstance(value, str):
        return _portable_path(value)[0] if os.path.isabs(value) else value
    if isinstance(value, list):
        return [_portable_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _portable_value(v) for k, v in value.items()}
    return value


def _data_records(data_paths) -> list[dict]:
    if data_paths is None:
        return []
    if isinstance(data_paths, (str, os.PathLike)):
        data_paths = [data_paths]
    records = []
    for item in data_paths:
        if item is None:
            continue
        path = Path(item)
        if not path.is_file():
            raise FileNotFoundError(
                f"Data file {str(item)!r} listed in data_paths does not exist: tried "
                f"{os.path.normpath(path.absolute())!r}."
            )
        shown, root = _portable_path(path)
        records.append({"path": shown, "relative_to": root, "sha256": _sha256_file(path)})
    return records


def _base_entry(name, caption, notebook, parameters, data_paths) -> dict:
    if notebook is None:
        notebook = os.environ.get(NOTEBOOK_ENV) or None
    return {
        "id": name,
        "caption": caption,
        "notebook": notebook,
        "parameters": _portable_value(_json_safe(dict(parameters or {}), "parameters")),
        "data": _data_records(data_paths),
        "versions": _versions(),
    }


def _now_iso() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = datetime.fromtimestamp(int(epoch), tz=UTC) if epoch else datetime.now(UTC)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _empty_manifest() -> dict:
    return {"schema": _MANIFEST_SCHEMA, "generated_at": None, **{key: [] for key in _MANIFEST_SECTIONS}}


def _read_manifest(path: Path) -> dict:
    if not path.is_file() or path.stat().st_size == 0:
        return _empty_manifest()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(
            f"Manifest {str(path)!r} is not valid JSON ({err}). Delete it and re-run the notebooks."
        ) from err
    manifest = _empty_manifest()
    manifest.update(data)
    return manifest


def _dump_manifest(manifest: dict) -> bytes:
    for key in _MANIFEST_SECTIONS:
        manifest[key] = sorted(manifest.get(key, []), key=lambda entry: entry["id"])
    return (json.dumps(manifest, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


@contextlib.contextmanager
def _locked(manifest_path: Path) -> Iterator[None]:
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # pragma: no cover
        yield
        return
    lock_path = manifest_path.with_name(f".{manifest_path.name}.lock")
    fd = _open_no_follow(lock_path)
    with os.fdopen(fd, "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _open_no_follow(path: Path) -> int:
    """Open (create) ``path`` for appending without following a symbolic link planted at its name."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(path, flags, 0o666)
    except OSError as err:
        if os.path.islink(path):
            raise _link_refused(path) from err
        raise


def _link_refused(path) -> PermissionError:
    return PermissionError(
        f"{str(path)!r} is a symbolic link (to {os.readlink(path)!r}); churnsurv does not write through links, so "
        "that nothing lands outside the report folder. Delete the link and re-run."
    )


def _record(manifest_path: Path, section: str, entry: dict) -> None:
    with _locked(manifest_path):
        manifest = _read_manifest(manifest_path)
        entries = manifest[section]
        for existing in entries:
            if existing["id"] == entry["id"] and existing.get("notebook") != entry["notebook"]:
                raise ValueError(
                    f"The {section[:-1]} id {entry['id']!r} is already recorded in {str(manifest_path)!r} by "
                    f"notebook {existing.get('notebook')!r} (now saved from {entry['notebook']!r}). Ids must be "
                    "unique across a report: rename one of them, or delete the manifest to start afresh."
                )
        manifest[section] = [e for e in entries if e["id"] != entry["id"]] + [entry]
        manifest["generated_at"] = _now_iso()
        _write_bytes(manifest_path, _dump_manifest(manifest))


def _clear_manifest(fig_dir: Path) -> None:
    """Delete the manifest in ``fig_dir`` and the files it lists (nothing else)."""
    manifest_path = fig_dir / MANIFEST_NAME
    with _locked(manifest_path):
        manifest = _read_manifest(manifest_path)
        root = fig_dir.resolve()
        for section in _MANIFEST_SECTIONS:
            for entry in manifest.get(section, []):
                for record in entry.get("files", {}).values():
                    target = (fig_dir / record["path"]).resolve()
                    if target.parent == root:
                        target.unlink(missing_ok=True)
        manifest_path.unlink(missing_ok=True)


def _verify_files(manifest: dict, root: Path) -> None:
    for section in _MANIFEST_SECTIONS:
        for entry in manifest[section]:
            for record in entry["files"].values():
                path = root / record["path"]
                if not path.is_file():
                    raise FileNotFoundError(
                        f"{section[:-1].capitalize()} {entry['id']!r} (notebook {entry.get('notebook')!r}) lists "
                        f"{str(path)!r}, which does not exist. Re-run the notebook."
                    )
                if _sha256_file(path) != record["sha256"]:
                    raise ValueError(
                        f"{str(path)!r} does not match the SHA-256 recorded in the manifest: it changed after "
                        f"notebook {entry.get('notebook')!r} wrote it. Re-run the notebook instead of editing outputs."
                    )

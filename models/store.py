"""Versioned model store: `<root>/<name>/<version>/{model.pkl, metadata.json}` (file I/O only).

A version is written into a temporary sibling directory and renamed into place, so a reader
never sees a half-written model. Version ids sort in training order
(`YYYYMMDDTHHMMSS-<hash>`), so "latest" is the greatest id. Scoring loads the latest version
whose metadata says `approved: true`; an unapproved model is stored (for review) but never
used unless asked for by version."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import joblib

MODEL_FILE = "model.pkl"
METADATA_FILE = "metadata.json"


class ModelStoreError(LookupError):
    """The requested model or version is not in the store (or none is approved)."""


def make_version(fingerprint: str, trained_at: datetime | None = None) -> str:
    """A sortable version id: UTC training time + a short hash of the training data/params."""
    trained_at = trained_at or datetime.now(timezone.utc)
    digest = hashlib.sha256(fingerprint.encode()).hexdigest()[:8]
    return f"{trained_at.astimezone(timezone.utc):%Y%m%dT%H%M%S}-{digest}"


def save_model(root: Path, name: str, model: Any, *, metadata: dict,
               version: str | None = None, extra_files: dict[str, str] | None = None) -> str:
    """Store a fitted model with its metadata; returns the version id.

    `metadata` should carry trained_at, training window, feature list, metrics and `approved`;
    the version id and name are added. Without `version`, one is derived from the metadata.
    `extra_files` (file name -> text, e.g. a model card) are written into the same version."""
    root = Path(root)
    now = datetime.now(timezone.utc)
    meta = dict(metadata)
    meta.setdefault("trained_at", now.isoformat(timespec="seconds"))
    meta.setdefault("approved", False)
    if version is None:
        version = make_version(json.dumps(meta, sort_keys=True, default=str), now)
    meta.update(name=name, version=version)
    model_dir = root / name
    model_dir.mkdir(parents=True, exist_ok=True)
    final = model_dir / version
    if final.exists():
        raise ModelStoreError(f"model {name!r} version {version!r} already exists")
    tmp = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=model_dir))
    try:
        joblib.dump(model, tmp / MODEL_FILE)
        (tmp / METADATA_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))
        for file_name, text in (extra_files or {}).items():
            (tmp / Path(file_name).name).write_text(text, encoding="utf-8")
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return version


def list_versions(root: Path, name: str) -> list[dict]:
    """Metadata of every stored version of `name`, oldest first (temp dirs ignored)."""
    model_dir = Path(root) / name
    if not model_dir.is_dir():
        return []
    out = []
    for d in sorted(model_dir.iterdir()):
        if d.name.startswith(".") or not (d / METADATA_FILE).is_file():
            continue
        out.append(json.loads((d / METADATA_FILE).read_text()))
    return out


def latest_approved(root: Path, name: str) -> dict | None:
    approved = [m for m in list_versions(root, name) if m.get("approved")]
    return approved[-1] if approved else None


def load_model(root: Path, name: str, version: str | None = None) -> tuple[Any, dict]:
    """(model, metadata) of `version`, or of the latest approved version when None."""
    if version is None:
        meta = latest_approved(root, name)
        if meta is None:
            stored = len(list_versions(root, name))
            raise ModelStoreError(
                f"no approved version of model {name!r} in {root} "
                f"({stored} version(s) stored, none approved): train and approve one first")
        version = meta["version"]
    d = Path(root) / name / version
    if not (d / METADATA_FILE).is_file():
        raise ModelStoreError(f"model {name!r} has no version {version!r} in {root}")
    meta = json.loads((d / METADATA_FILE).read_text())
    return joblib.load(d / MODEL_FILE), meta


def set_approved(root: Path, name: str, version: str, approved: bool = True) -> dict:
    """Flip the approval flag of a stored version (atomic rewrite of its metadata)."""
    d = Path(root) / name / version
    if not (d / METADATA_FILE).is_file():
        raise ModelStoreError(f"model {name!r} has no version {version!r} in {root}")
    meta = json.loads((d / METADATA_FILE).read_text())
    meta["approved"] = bool(approved)
    tmp = d / f".{METADATA_FILE}.tmp"
    tmp.write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))
    os.replace(tmp, d / METADATA_FILE)
    return meta

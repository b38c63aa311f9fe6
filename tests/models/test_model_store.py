from datetime import datetime, timezone

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from models.store import (ModelStoreError, list_versions, load_model, make_version, save_model,
                          set_approved)


def _fit(seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(60, 2))
    return LogisticRegression().fit(x, (x[:, 0] > 0).astype(int)), x


def _meta(approved, **extra):
    return {"training_window": ["2025-01-31", "2025-06-30"], "features": ["a", "b"],
            "metrics": {"auc": 0.8}, "approved": approved, **extra}


def test_round_trip_and_latest_approved(tmp_path):
    m1, x = _fit(1)
    m2, _ = _fit(2)
    v1 = save_model(tmp_path, "p_card", m1, metadata=_meta(True),
                    version=make_version("a", datetime(2026, 1, 1, tzinfo=timezone.utc)))
    v2 = save_model(tmp_path, "p_card", m2, metadata=_meta(True),
                    version=make_version("b", datetime(2026, 2, 1, tzinfo=timezone.utc)))
    v3 = save_model(tmp_path, "p_card", m1, metadata=_meta(False),
                    version=make_version("c", datetime(2026, 3, 1, tzinfo=timezone.utc)))
    assert v1 < v2 < v3 and v1.startswith("20260101T000000-")
    model, meta = load_model(tmp_path, "p_card")
    assert meta["version"] == v2 and meta["approved"] is True
    np.testing.assert_allclose(model.predict_proba(x), m2.predict_proba(x))
    assert meta["features"] == ["a", "b"] and meta["name"] == "p_card"
    # An unapproved version is loadable by its id only.
    _, meta3 = load_model(tmp_path, "p_card", v3)
    assert meta3["approved"] is False
    assert [m["version"] for m in list_versions(tmp_path, "p_card")] == [v1, v2, v3]
    set_approved(tmp_path, "p_card", v3)
    assert load_model(tmp_path, "p_card")[1]["version"] == v3


def test_no_approved_version_is_a_clear_error(tmp_path):
    with pytest.raises(ModelStoreError, match="no approved version"):
        load_model(tmp_path, "p_loan")
    save_model(tmp_path, "p_loan", _fit(1)[0], metadata=_meta(False))
    with pytest.raises(ModelStoreError, match="1 version\\(s\\) stored, none approved"):
        load_model(tmp_path, "p_loan")
    with pytest.raises(ModelStoreError, match="no version"):
        load_model(tmp_path, "p_loan", "20990101T000000-deadbeef")


def test_write_is_atomic_and_versions_are_immutable(tmp_path, monkeypatch):
    v = save_model(tmp_path, "m", _fit(1)[0], metadata=_meta(True), version="20260101T000000-x")
    with pytest.raises(ModelStoreError, match="already exists"):
        save_model(tmp_path, "m", _fit(2)[0], metadata=_meta(True), version=v)

    import models.store as store

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(store.joblib, "dump", boom)
    with pytest.raises(OSError):
        save_model(tmp_path, "m", _fit(2)[0], metadata=_meta(True), version="20260201T000000-y")
    # Nothing half-written is left behind, and the old version is still the latest.
    assert [p.name for p in (tmp_path / "m").iterdir()] == [v]
    assert load_model(tmp_path, "m")[1]["version"] == v

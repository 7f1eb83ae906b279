"""The user's model: named with parameters, a factory, or a pickle; described in output."""

from __future__ import annotations

import pickle

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from labelwise.errors import InputError, ParameterError
from labelwise.scaling.estimators import (
    PickleWarning,
    describe_estimator,
    load_estimator,
    make_estimator,
    parse_params,
    resolve_estimator,
)


def test_parse_params():
    got = parse_params(["C=10", "scale=false", "penalty=l2", "class_weight=None", "tol=1e-3"])
    assert got == {"C": 10, "scale": False, "penalty": "l2", "class_weight": None, "tol": 1e-3}
    with pytest.raises(ParameterError, match="KEY=VALUE"):
        parse_params(["C"])
    with pytest.raises(ParameterError, match="KEY=VALUE"):
        parse_params(["1x=2"])


def test_make_estimator_and_describe():
    est = make_estimator("logreg", {"C": 10, "scale": False})
    assert isinstance(est, LogisticRegression) and est.C == 10
    assert describe_estimator(est) == "LogisticRegression(C=10)"
    scaled = make_estimator("logreg")
    assert isinstance(scaled, Pipeline)
    assert describe_estimator(scaled) == "StandardScaler() + LogisticRegression()"
    knn = make_estimator("knn", {"n_neighbors": 3})
    assert describe_estimator(knn) == "KNeighborsClassifier(n_neighbors=3)"
    with pytest.raises(ParameterError, match="no parameter 'gamma'"):
        make_estimator("logreg", {"gamma": 2})
    with pytest.raises(ParameterError, match="must be one of"):
        make_estimator("svm")
    with pytest.raises(ParameterError, match="LogisticRegression"):
        make_estimator("logreg", {"C": -1})


def test_resolve_and_load(tmp_path):
    assert resolve_estimator(lambda: LogisticRegression(C=3)).C == 3
    assert resolve_estimator(LogisticRegression).C == 1.0
    with pytest.raises(InputError, match="scikit-learn classifier"):
        resolve_estimator(42)
    path = tmp_path / "m.pkl"
    path.write_bytes(pickle.dumps(LogisticRegression(C=7)))
    with pytest.warns(PickleWarning, match="can run any code"):
        est = load_estimator(path)
    assert est.C == 7 and not hasattr(est, "coef_")
    (tmp_path / "bad.pkl").write_bytes(b"not a pickle")
    with pytest.warns(PickleWarning), pytest.raises(InputError, match="not a readable pickle"):
        load_estimator(tmp_path / "bad.pkl")
    with pytest.raises(InputError, match="does not exist"):
        load_estimator(tmp_path / "none.pkl")

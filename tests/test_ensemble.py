"""The ensemble of default autoencoders: its score is the mean of its members' scaled scores, and it is saved,
loaded and served like any other model, with every member checked as a single model is."""

import io
import json
import zipfile

import numpy as np
import pytest

from core.bundle import META_MEMBER, bundle_bytes, load_bundle
from core.ensemble import AutoencoderEnsemble, stopped_early
from core.errors import DataError
from core.thresholds import Threshold
from tests.conftest import planted
from tests.hostile import _members, _zip


@pytest.fixture(scope="module")
def ensemble():
    X, y = planted(n_normal=300, n_anomaly=20, seed=4)
    fitted = AutoencoderEnsemble(n_networks=3, epochs=3, random_state=7).fit(X.iloc[:220], y[:220], validation_data=(X.iloc[220:], y[220:]))
    return fitted, X, y


def test_the_score_is_the_mean_of_each_networks_score_over_its_mean_on_normal_training_rows(ensemble):
    det, X, _ = ensemble
    assert [m.random_state for m in det.members_] == [7, 1007, 2007]
    assert np.allclose(det.scales_, [m.decision_scores_.mean() for m in det.members_])
    expected = np.mean([m.decision_function(X) / m.decision_scores_.mean() for m in det.members_], axis=0)
    assert np.allclose(det.decision_function(X), expected)
    assert np.isclose(det.decision_scores_.mean(), 1.0)  # every member averages 1 on the normal training rows, so the mean does too
    assert "mean of 3 dense autoencoders" in det.score_description()


def test_a_row_is_explained_by_the_networks_mean_reconstruction_and_each_networks_scaled_score(ensemble):
    from core.explain import code_reader, explain_row
    from core.pipeline import prepare
    from core.data import Table

    det, X, y = ensemble
    parts = det.score_parts(X.iloc[:5])
    assert np.allclose(parts["score"], det.decision_function(X.iloc[:5]))  # the explanation explains the score in use
    each = [m.score_parts(X.iloc[:5]) for m in det.members_]
    assert np.allclose(parts["network_scores"], np.column_stack([e["score"] / s for e, s in zip(each, det.scales_)]))
    assert np.allclose(parts["reconstruction"], np.mean([e["reconstruction"] for e in each], axis=0))
    assert np.allclose(parts["cell_error"], np.mean([e["cell_error"] for e in each], axis=0))
    assert np.allclose(det.split_by_feature(parts["cell_error"]).sum(axis=1), parts["reconstruction_error"])
    frame = X.assign(y=y)
    prepared = prepare(Table(frame, "planted.csv", "0" * 64), "y", [0], list(X.columns), seed=0)
    explanation = explain_row(det, prepared, 3)
    assert explanation.of_networks and list(explanation.parts) == ["network 1", "network 2", "network 3"]
    assert np.isclose(np.mean(list(explanation.parts.values())), explanation.score)
    assert code_reader(det) is det.members_[0]


def test_a_stopped_ensemble_keeps_only_the_networks_that_finished_and_one_network_stays_one():
    from core.training import StopFlag

    X, y = planted(n_normal=200, n_anomaly=10, seed=2)

    def stop_in(network: int):
        flag = StopFlag()
        calls = []

        def hook(report):
            calls.append(report.epoch)
            if len(calls) == 3 * (network - 1) + 1:  # the first epoch of that network (three epochs a network)
                flag.set()
        return flag, hook

    flag, hook = stop_in(3)
    kept = AutoencoderEnsemble(n_networks=4, epochs=3, random_state=1).fit(X, y, hooks=[hook], stop=flag)
    # network 3, cut off after one epoch, would weigh as much as the two that finished: it is left out
    assert isinstance(kept, AutoencoderEnsemble) and kept.n_networks == 2 and [m.epochs_run_ for m in kept.members_] == [3, 3]
    assert not any(m.stopped_by_user_ for m in kept.members_) and np.isfinite(kept.threshold_)
    from core.report import _model_section

    assert _model_section(kept)["stopped_early"] == stopped_early(kept) and _model_section(kept)["networks_asked"] == 4  # the report says it too
    assert stopped_early(kept) == ("Of the 4 networks asked for, Stop ended the training in network 3, which is left out unfinished: "
                                   "the model is the 2 networks finished before it")
    flag, hook = stop_in(2)
    first = AutoencoderEnsemble(n_networks=3, epochs=3, random_state=1).fit(X, y, hooks=[hook], stop=flag)
    assert type(first).__name__ == "AutoencoderDetector" and first.epochs_run_ == 3 and not first.stopped_by_user_
    assert stopped_early(first).endswith("network 2, which is left out unfinished: the model is network 1 alone")
    flag, hook = stop_in(1)
    alone = AutoencoderEnsemble(n_networks=3, epochs=3, random_state=1).fit(X, y, hooks=[hook], stop=flag)
    assert type(alone).__name__ == "AutoencoderDetector" and alone.epochs_run_ == 1 and alone.random_state == 1
    assert stopped_early(alone).endswith("network 1: this network alone is the model")
    assert stopped_early(AutoencoderEnsemble(n_networks=2, epochs=1).fit(X, y)) == ""


def test_an_ensemble_of_networks_set_by_hand_is_saved_and_read_back_with_those_settings():
    X, y = planted(n_normal=200, n_anomaly=10, seed=3)
    network = {"hidden_sizes": [12], "code_size": 3, "scaler": "minmax"}
    det = AutoencoderEnsemble(n_networks=2, epochs=2, random_state=5, network=network).fit(X, y)
    assert [(m.hidden_sizes, m.code_size, m.scaler) for m in det.members_] == [([12], 3, "minmax")] * 2
    loaded, _ = load_bundle(bundle_bytes(det))
    assert loaded.network == network and loaded.get_params() == det.get_params()
    assert np.allclose(loaded.decision_function(X), det.decision_function(X))
    with pytest.raises(DataError, match="not 'random_state', 'warp'"):
        AutoencoderEnsemble(n_networks=2, network={"random_state": 3, "warp": 1}).fit(X, y)


def test_one_network_is_not_an_ensemble():
    X, y = planted(n_normal=60, n_anomaly=0, seed=1)
    with pytest.raises(DataError, match="2 to 10 networks"):
        AutoencoderEnsemble(n_networks=1, epochs=1).fit(X)


def test_a_saved_ensemble_scores_the_same_with_the_threshold_it_was_saved_with(ensemble):
    det, X, _ = ensemble
    chosen = Threshold(1.75, "manual", "chosen by hand", "val")
    loaded, context = load_bundle(bundle_bytes(det, {"label": "y"}, threshold=chosen))
    assert isinstance(loaded, AutoencoderEnsemble) and context == {"label": "y"}
    assert np.allclose(loaded.decision_function(X), det.decision_function(X))
    assert loaded.fitted_threshold == chosen and loaded.get_params() == det.get_params()
    assert np.allclose(loaded.decision_scores_, np.sort(det.decision_scores_))  # what label-free rules read: their distribution


def test_an_ensemble_is_served_for_scores_rebuilds_and_explanations_not_codes(ensemble):
    from core.served_model import NotAvailable, ServedModel

    det, X, _ = ensemble
    served = ServedModel.from_bundle(bundle_bytes(det))
    assert "encode" not in served.capabilities and "decode" not in served.capabilities
    assert "explain" in served.capabilities and "reconstruct" in served.capabilities
    with pytest.raises(NotAvailable, match=r"AE ensemble\) cannot encode: it averages the scores of 3 autoencoders.*answers .*/reconstruct and /explain"):
        served.require("encode")
    rebuilt = served.reconstruct(served.validate(X.head(5)))
    assert np.allclose(det.preprocessor_.transform(rebuilt), np.mean([m.reconstruct(X.head(5)) for m in det.members_], axis=0), atol=1e-4)
    assert np.allclose(served.detector.decision_function(X.head(5)), det.decision_function(X.head(5)))
    explained = served.explain(served.validate(X.head(5)))
    assert np.allclose(explained["scores"], det.decision_function(X.head(5)))
    assert np.allclose(explained["error"], np.mean([m.reconstruction_error(X.head(5)) for m in det.members_], axis=0))
    assert np.allclose(explained["shares"].sum(axis=1), 1.0)


def _edit_state(change):
    def edit(m):
        meta = json.loads(m[META_MEMBER])
        change(meta["detector"])
        m[META_MEMBER] = json.dumps(meta).encode()
    return edit


@pytest.mark.parametrize("damage, refused", [
    (lambda m: m.pop("network_2.zip"), "does not add up"),
    (lambda m: m.__setitem__("network_2.zip", m["network_1.zip"][:200]), "network_2.zip, one of its 3 networks, cannot be read: .*not a zip"),
    (lambda m: m.__setitem__("network_2.zip", b"not a zip"), "network_2.zip, one of its 3 networks, cannot be read"),
    (_edit_state(lambda d: d.__setitem__("scales", d["scales"][:2])), "does not add up: 2 scale"),  # the third network silently unused
    (_edit_state(lambda d: d["params"].__setitem__("n_networks", 10)), "does not add up"),
    (lambda m: m.__setitem__("network_4.zip", m["network_1.zip"]), "does not add up"),
    (_edit_state(lambda d: d.__setitem__("type", "ensemblex")), "detector type 'ensemblex' is not one"),
    (lambda m: m.__setitem__(META_MEMBER, json.dumps({**json.loads(m[META_MEMBER]), "detector": {
        **json.loads(m[META_MEMBER])["detector"], "scales": [1.0, -1.0, 1.0]}}).encode()), "positive numbers"),
    (lambda m: m.__setitem__(META_MEMBER, json.dumps({**json.loads(m[META_MEMBER]), "detector": {
        **json.loads(m[META_MEMBER])["detector"], "threshold": "high"}}).encode()), "threshold must be an object"),
])
def test_a_damaged_ensemble_bundle_is_refused_in_words(ensemble, damage, refused):
    members = _members(bundle_bytes(ensemble[0]))
    damage(members)
    with pytest.raises(DataError, match=refused):
        load_bundle(_zip(members))


def test_an_ensemble_inside_an_ensemble_or_a_baseline_among_its_networks_is_refused(ensemble):
    from core.baselines import KNNDetector

    det, X, y = ensemble
    whole = bundle_bytes(det)
    nested = _members(whole)
    nested["network_2.zip"] = whole
    with pytest.raises(DataError, match="itself an ensemble"):
        load_bundle(_zip(nested))
    mixed = _members(whole)
    mixed["network_3.zip"] = bundle_bytes(KNNDetector().fit(X, y))
    with pytest.raises(DataError, match="not an autoencoder"):
        load_bundle(_zip(mixed))


def test_networks_fitted_on_other_columns_cannot_be_joined(ensemble):
    from core.detector import AutoencoderDetector

    det, X, y = ensemble
    members = _members(bundle_bytes(det))
    other = AutoencoderDetector(epochs=1).fit(X * 10, y)  # the same columns, scaled by other rows
    members["network_3.zip"] = bundle_bytes(other)
    with pytest.raises(DataError, match="read their columns differently"):
        load_bundle(_zip(members))


def test_the_networks_together_unpack_within_one_bundles_limit(ensemble):
    det = ensemble[0]
    raw = bundle_bytes(det)
    with zipfile.ZipFile(io.BytesIO(_members(raw)["network_1.zip"])) as inner:
        one = sum(i.file_size for i in inner.infolist())
    outer = sum(len(v) for v in _members(raw).values())
    load_bundle(raw, max_bytes=4 * one)  # three networks fit in four networks' room
    room = int(2.5 * one)
    assert outer < room  # the zip itself is within the limit, and each network alone fits …
    with pytest.raises(DataError, match="networks unpack to more than"):  # … but not three together
        load_bundle(raw, max_bytes=room)


def test_an_ensemble_of_numpy_scored_networks_is_scored_on_as_many_workers_as_one_network(ensemble):
    from core.scoring import scoring_workers

    det = ensemble[0]
    assert scoring_workers(det) == scoring_workers(det.members_[0])
    loaded, _ = load_bundle(bundle_bytes(det))  # loaded: NumPy forwards, no Keras model
    assert scoring_workers(loaded) == scoring_workers(det.members_[0])


def test_the_networks_of_an_ensemble_share_one_tails_part_and_score_as_each_alone(monkeypatch):
    from core.column_tails import TailsTable

    X, y = planted(n_normal=300, n_anomaly=12, seed=4)
    det = AutoencoderEnsemble(n_networks=3, epochs=2, network={"score": "combined"}).fit(X, y)
    loaded, _ = load_bundle(bundle_bytes(det))
    for model in (det, loaded):
        x = model.transform_features(X)
        alone = np.mean([member._score(x) / scale for member, scale in zip(model.members_, model.scales_)], axis=0)
        calls = []
        real = TailsTable.__call__
        monkeypatch.setattr(TailsTable, "__call__", lambda table, values: calls.append(1) or real(table, values))
        assert np.array_equal(model._score(x), alone)
        monkeypatch.undo()
        assert model._tails_from == [0, 0, 0] and len(calls) == 1  # one tails part for three networks

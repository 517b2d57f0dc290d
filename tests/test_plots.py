import numpy as np

from core.metrics import ThresholdCurve
from core.plots import (confusion_figure, curve_points, histogram_bins, histogram_figure, loss_figure, pr_figure,
                        reconstruction_figure, roc_figure)


def _data():
    rng = np.random.default_rng(0)
    y = (rng.random(500) < 0.2).astype(int)
    return rng.gamma(2, 1, 500) + 3 * y, y


def test_histogram_bins_are_shared_and_count_every_row():
    s, y = _data()
    bins = histogram_bins(s, y, n_bins=40)
    assert len(bins.edges) == 41
    assert bins.normal.sum() == (y == 0).sum() and bins.anomaly.sum() == y.sum()
    log_bins = histogram_bins(s, y, log_x=True)
    assert np.all(np.diff(np.log(log_bins.edges)) > 0) and log_bins.normal.sum() + log_bins.anomaly.sum() == len(s)


def test_histogram_figure_draws_both_classes_and_the_threshold():
    s, y = _data()
    fig = histogram_figure(histogram_bins(s, y, log_x=True), threshold=3.0)
    assert [t.name.split(" ")[0] for t in fig.data] == ["normal", "anomaly", "threshold"]
    assert list(fig.data[2].x) == [3.0, 3.0] and fig.layout.xaxis.type == "log"
    unlabelled = histogram_figure(histogram_bins(s))
    assert len(unlabelled.data) == 1


def test_confusion_figure_labels_each_cell_with_meaning_count_and_share():
    s, y = _data()
    conf = ThresholdCurve(s, y).at(3.0)
    fig = confusion_figure(conf)
    text = " ".join(" ".join(row) for row in fig.data[0].text)
    assert f"normal flagged<br>as anomaly</b><br>{conf.fp:,}" in text
    assert f"anomaly<br>caught</b><br>{conf.tp:,}" in text and "%" in text


def test_roc_and_pr_mark_the_operating_point():
    s, y = _data()
    curve = ThresholdCurve(s, y)
    conf = curve.at(3.0)
    points = curve_points(curve)
    roc = roc_figure(points, conf)
    assert roc.data[-1].x[0] == conf.metrics()["fpr"] and roc.data[-1].y[0] == conf.metrics()["recall"]
    pr = pr_figure(points, conf)
    assert pr.data[-1].y[0] == conf.metrics()["precision"]


def test_loss_and_reconstruction_figures():
    fig = loss_figure({"loss": [3, 2, 1], "val_loss": [3, 2.5, 2]}, best_epoch=3)
    assert len(fig.data) == 2 and list(fig.data[1].y) == [3, 2.5, 2]
    bars = reconstruction_figure(["a", "b"], np.array([1.0, 2.0]), np.array([1.1, 1.9]))
    assert bars.data[0].type == "bar"
    lines = reconstruction_figure([f"t{i}" for i in range(10)], np.zeros(10), np.ones(10), sequence=True)
    assert lines.data[0].type == "scatter"


def test_a_loss_figure_updated_in_place_equals_one_drawn_anew():
    import json

    import plotly.io as pio

    from core.plots import update_loss_figure

    rng = np.random.default_rng(0)
    loss, val = list(rng.random(40)), list(rng.random(40))
    steps = [({}, None), ({"loss": loss[:1]}, None), ({"loss": loss[:1], "val_loss": val[:1]}, 1),
             ({"loss": loss[:7], "val_loss": val[:7]}, 5), ({"loss": loss, "val_loss": val}, 31)]
    fig = loss_figure(*steps[0])
    for history, best in steps[1:]:
        fig = update_loss_figure(fig, history, best)
        assert json.loads(pio.to_json(fig)) == json.loads(pio.to_json(loss_figure(history, best)))  # the same figure, keys in any order


def test_log_axes_label_in_between_ticks_with_their_values_not_bare_digits():
    fig = loss_figure({"loss": [0.9, 0.3, 0.08], "val_loss": [0.8, 0.2, 0.07]}, 3)
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.minorloglabels == "complete"
    assert loss_figure({}).layout.yaxis.showticklabels is False  # no made-up decades on the chart drawn before training
    assert tuple(loss_figure({}).layout.xaxis.range) == (0.5, 10.5)  # epochs 1 to 10, not Plotly's −1 to 6
    assert tuple(loss_figure({"loss": [0.9] * 40}).layout.xaxis.range) == (0.5, 40.5)  # with points, the axis spans them, from epoch 1


def test_an_empty_loss_chart_spans_the_epochs_the_training_will_run():
    from core.plots import update_loss_figure

    assert tuple(loss_figure({}, epochs=250).layout.xaxis.range) == (0.5, 250.5)
    moved = update_loss_figure(loss_figure({}, epochs=40), {"loss": [], "val_loss": []}, None, 300)
    assert tuple(moved.layout.xaxis.range) == (0.5, 300.5)
    live = update_loss_figure(moved, {"loss": [0.5, 0.4], "val_loss": [0.6, 0.5]}, 2, 300)
    assert tuple(live.layout.xaxis.range) == (0.5, 300.5)  # while training, the whole run: how far along it is


def test_a_short_training_has_a_tick_on_each_whole_epoch_only():
    assert loss_figure({}, epochs=1).layout.xaxis.dtick == 1 and tuple(loss_figure({}, epochs=1).layout.xaxis.range) == (0.5, 1.5)
    assert loss_figure({"loss": [0.3, 0.2, 0.1]}).layout.xaxis.dtick == 1
    assert loss_figure({}, epochs=100).layout.xaxis.dtick is None  # Plotly's own whole steps (20, 40 …)


def test_the_best_epoch_label_reads_towards_the_middle_so_the_last_epoch_is_not_cut_off():
    history = {"loss": [0.9, 0.5, 0.3, 0.2], "val_loss": [0.8, 0.4, 0.3, 0.25]}
    assert loss_figure(history, 4).layout.annotations[0].xanchor == "right"
    assert loss_figure(history, 1).layout.annotations[0].xanchor == "left"
    assert loss_figure(history, 4, epochs=100).layout.annotations[0].xanchor == "left"  # live: epoch 4 of 100 is at the left


def test_a_compare_chart_makes_room_below_its_axis_title_for_every_legend_row():
    """Nine detectors' legend once sat at -0.2 of the plot, over the axis title: it must sit in a margin that grows with it."""
    from core.plots import LEGEND_ROW_PX, PLOT_PX, compare_figure

    scores, y = _data()
    points = {f"detector {i}": curve_points(ThresholdCurve(scores + i, y)) for i in range(9)}
    for kind, entries in (("roc", 10), ("pr", 9)):  # the ROC chart adds the chance line
        layout = compare_figure(points, kind).layout
        assert layout.legend.yref == "container" and layout.legend.y == 0 and layout.legend.yanchor == "bottom"
        assert layout.margin.b >= 60 + LEGEND_ROW_PX * entries and layout.height == PLOT_PX + layout.margin.b


def test_one_score_gets_bins_wide_enough_to_draw_its_bar_on_either_axis():
    from core.plots import histogram_bins

    for log_x in (True, False):
        bins = histogram_bins(np.array([1.1124]), n_bins=60, log_x=log_x)
        assert bins.normal.sum() == 1 and bins.edges[0] < 1.1124 < bins.edges[-1]
        assert bins.edges[-1] - bins.edges[0] > 0.2  # a sliver of 1e-4 drew no bar, and the axis ran elsewhere


def test_a_log_score_axis_spaces_its_ticks_by_the_decades_it_spans():
    """Plotly's every-digit labels ran together on a narrow chart ("0.80.91"), and its 1-2-5 labels were raised and small."""
    from core.plots import histogram_bins, histogram_figure

    rng = np.random.default_rng(0)
    many = histogram_figure(histogram_bins(10 ** rng.uniform(-2, 3, 500), log_x=True)).layout.xaxis  # five decades: one tick a decade
    few = histogram_figure(histogram_bins(10 ** rng.uniform(0, 1.6, 500), log_x=True)).layout.xaxis  # a decade and a half: 1-2-5
    one = histogram_figure(histogram_bins(10 ** rng.uniform(0, 0.98, 500), log_x=True)).layout.xaxis  # about a decade: 1 to 7
    narrow = histogram_figure(histogram_bins(10 ** rng.uniform(0, 0.2, 500), log_x=True)).layout.xaxis  # under half a decade: Plotly's ticks
    assert many.type == "log" and list(many.ticktext) == ["0.1", "1", "10", "100"]
    assert list(few.ticktext) == ["2", "5", "10", "20"] and list(one.ticktext) == ["1.5", "2", "3", "5", "7"]  # within the scores
    assert narrow.tickvals is None and narrow.tickmode == "auto"


def test_a_review_band_is_drawn_as_a_dotted_line_at_its_start():
    bins = histogram_bins(np.linspace(0.1, 10, 200), log_x=True)
    names = [t.name for t in histogram_figure(bins, 5.0, review_from=2.5).data]
    assert names[-2:] == ["threshold 5", "review from 2.5"] and not any("review" in n for n in [t.name for t in histogram_figure(bins, 5.0).data])

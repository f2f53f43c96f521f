"""Learning curves: the point at the default length is the Table I network and its accuracies."""

import numpy as np
import pandas as pd
import pytest
from tiny_training import tiny_job, write_tiny_dataset

from crossmodal.common.errors import InputError
from crossmodal.evaluation.evaluate import evaluate
from crossmodal.reporting.cell import same_cross_means
from crossmodal.studies.curve_tables import CURVE_COLUMNS
from crossmodal.studies.curve_training import curve_training
from crossmodal.training.train import train

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _curve(root, dataset, model_id, updates):
    return curve_training(tiny_job(root, dataset, model_id), updates=updates, n_trees=5, max_train_patches=None,
                          output_path=root / "curve.tsv")  # fmt: skip


@pytest.mark.parametrize("model_id", ["axial-md1-pfn1-a0.1", "baseline-all"])
def test_the_default_length_point_equals_the_table_i_run(tmp_path, model_id):
    dataset = write_tiny_dataset(tmp_path)  # 16 training patches, batch 6: 3 updates per epoch
    table = _curve(tmp_path, dataset, model_id, [1, 4, 9])
    written = pd.read_csv(tmp_path / "curve.tsv", sep="\t")
    assert list(written.columns) == CURVE_COLUMNS and len(written) == 4
    per_epoch = 6 if model_id == "baseline-all" else 3  # baseline-all: every (patch, modality) pair
    default = 2 * per_epoch  # training.epochs = 2
    assert written["updates"].tolist() == sorted({1, 4, 9, default})
    assert written.loc[written["default_length"], "updates"].tolist() == [default]
    np.testing.assert_allclose(written["epochs"], written["updates"] / per_epoch)
    assert written["patches_seen"].tolist() == [6 * u for u in written["updates"]]
    assert np.isfinite(written["train_loss"]).all() and (written["seconds"] > 0).all()

    out = tmp_path / "run"
    train(tiny_job(tmp_path, dataset, model_id), weights_path=out / "weights.pt", history_path=out / "history.tsv",
          features_path=out / "features.npz", checkpoint_path=out / "checkpoint.pt", checkpoint_minutes=5)
    accuracy = evaluate(out / "features.npz", out / "accuracy.tsv", dataset_name="tiny", model=model_id, fold=1,
                        modalities=dataset["modalities"], seed=dataset["seed"], max_train_patches=None, n_trees=5)
    row = table[table["default_length"]].iloc[0]
    same, cross = same_cross_means(accuracy)
    assert (row["same_accuracy"], row["cross_accuracy"]) == (same, cross)
    assert len(pd.read_csv(out / "history.tsv", sep="\t")) == 2  # the run stopped at the default length


def test_update_counts_must_be_positive(tmp_path):
    dataset = write_tiny_dataset(tmp_path)
    with pytest.raises(InputError, match="positive update counts"):
        _curve(tmp_path, dataset, "axial-md0-pfn0-a0.0", [0, 4])

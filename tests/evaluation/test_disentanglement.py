import math

import numpy as np
import pytest
import scipy.stats
from sklearn.metrics import mutual_info_score

from keras_vae import evaluation
from keras_vae.evaluation import disentanglement


def grid(*sizes, repeat=1):
    """Every combination of factors with `sizes` values, `repeat` times: in
    such a set, two different factors share no information at all."""
    axes = np.meshgrid(*[np.arange(size) for size in sizes], indexing="ij")
    return np.repeat(np.stack(axes, -1).reshape(-1, len(sizes)), repeat, axis=0)


def rotated(factors):
    """The first two factors mixed at 45 degrees, the others kept."""
    codes = factors.astype("float64")
    first, second = codes[:, 0].copy(), codes[:, 1].copy()
    codes[:, 0], codes[:, 1] = first + second, first - second
    return codes / math.sqrt(2)


def written_out_mig(codes, factors, num_bins=20):
    gaps = []
    for k in range(factors.shape[1]):
        information = []
        for j in range(codes.shape[1]):
            edges = np.histogram(codes[:, j], num_bins)[1]
            bins = np.digitize(codes[:, j], edges[:-1])
            information.append(mutual_info_score(factors[:, k], bins))
        top, second = sorted(information, reverse=True)[:2]
        gaps.append((top - second) / mutual_info_score(factors[:, k], factors[:, k]))
    return np.mean(gaps)


class TestMutualInformationGap:
    def test_codes_equal_to_the_factors_score_one(self):
        factors = grid(3, 4, 5, repeat=2)
        assert evaluation.mutual_information_gap(factors, factors) == pytest.approx(
            1.0, abs=1e-6
        )

    def test_a_duplicated_factor_has_no_gap(self):
        factors = grid(3, 4, 5)
        codes = factors[:, [0, 0, 1, 2]]
        assert evaluation.mutual_information_gap(codes, factors) == pytest.approx(
            2 / 3, abs=1e-6
        )

    def test_two_factors_rotated_together_have_no_gap(self):
        # z1 = (v0 + v1) / sqrt 2 and z2 = (v0 - v1) / sqrt 2 tell as much about
        # v0 (and v1) as each other; v2 keeps its own dimension.
        factors = grid(4, 4, 3)
        assert evaluation.mutual_information_gap(
            rotated(factors), factors
        ) == pytest.approx(1 / 3, abs=1e-6)

    def test_noise_scores_near_zero(self):
        factors = grid(3, 4, 5, repeat=40)
        codes = np.random.default_rng(0).normal(size=(len(factors), 6))
        assert evaluation.mutual_information_gap(codes, factors) < 0.05

    def test_it_equals_the_equations_on_noisy_codes(self):
        rng = np.random.default_rng(1)
        factors = grid(3, 6, 8, repeat=5)
        codes = np.c_[factors @ rng.normal(size=(3, 4)), rng.normal(size=(720, 2))]
        codes += rng.normal(0, 0.5, codes.shape)
        assert evaluation.mutual_information_gap(codes, factors) == pytest.approx(
            written_out_mig(codes, factors), abs=1e-6
        )

    def test_more_points_than_num_points_uses_a_subset(self):
        factors = grid(3, 6, 8, repeat=5)
        codes = factors + np.random.default_rng(2).normal(0, 0.3, factors.shape)
        subset = np.random.default_rng(0).permutation(len(codes))[:500]
        assert evaluation.mutual_information_gap(
            codes, factors, num_points=500
        ) == pytest.approx(written_out_mig(codes[subset], factors[subset]), abs=1e-6)


class TestSAPScore:
    def test_it_equals_the_equations_for_continuous_factors(self):
        rng = np.random.default_rng(0)
        factors = grid(3, 6, 8, repeat=3)
        codes = factors @ rng.normal(size=(3, 5)) + rng.normal(size=(432, 5))
        train, _ = disentanglement._split(len(codes), 10000, 5000, seed=0)
        squared_correlation = np.array(
            [
                [
                    np.corrcoef(codes[train, j], factors[train, k])[0, 1] ** 2
                    for k in range(3)
                ]
                for j in range(5)
            ]
        )
        ordered = np.sort(squared_correlation, axis=0)
        expected = np.mean(ordered[-1] - ordered[-2])
        assert evaluation.sap_score(
            codes, factors, continuous_factors=True
        ) == pytest.approx(expected, abs=1e-6)

    def test_a_duplicated_factor_has_no_gap(self):
        factors = grid(3, 4, 5, repeat=4)
        codes = factors[:, [0, 0, 1, 2]].astype("float64")
        # Factors 1 and 2 each have one exact dimension (R^2 = 1) and others
        # nearly unrelated; factor 0's two dimensions score the same.
        score = evaluation.sap_score(codes, factors, continuous_factors=True)
        assert 2 / 3 - 0.02 < score <= 2 / 3 + 1e-9

    def test_codes_equal_to_binary_factors_score_about_one_half(self):
        # The matching dimension predicts its factor perfectly; any other is
        # independent of it, right half the time on balanced classes.
        factors = grid(2, 2, 2, repeat=100)
        score = evaluation.sap_score(factors.astype("float64"), factors)
        assert 0.4 < score < 0.6

    def test_noise_scores_near_zero(self):
        factors = grid(3, 4, 5, repeat=20)
        codes = np.random.default_rng(0).normal(size=(len(factors), 4))
        assert evaluation.sap_score(codes, factors) < 0.1


class TestDCI:
    @pytest.mark.parametrize(
        "importance, expected",
        [
            (np.eye(3), (1.0, 1.0)),
            (np.ones((4, 3)), (0.0, 0.0)),
            # Two dimensions share factor 0: each dimension still means one
            # factor (D = 1); factor 0 is spread over two of four dimensions,
            # 1 - log 2 / log 4 = 1/2, and holds half the importance.
            ([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], (1.0, 0.75)),
            # One dimension carries both factors, the other nothing.
            ([[1, 1], [0, 0]], (0.0, 1.0)),
            (np.zeros((2, 2)), (0.0, 0.0)),
        ],
    )
    def test_known_importance_matrices(self, importance, expected):
        assert evaluation.disentanglement_completeness(importance) == pytest.approx(
            expected, abs=1e-6
        )

    def test_it_equals_the_equations_on_a_random_matrix(self):
        importance = np.random.default_rng(0).uniform(size=(6, 4))
        rows = 1 - scipy.stats.entropy(importance.T, base=4)
        columns = 1 - scipy.stats.entropy(importance, base=6)
        expected = (
            np.sum(rows * importance.sum(1) / importance.sum()),
            np.sum(columns * importance.sum(0) / importance.sum()),
        )
        assert evaluation.disentanglement_completeness(importance) == pytest.approx(
            expected, abs=1e-6
        )

    def test_codes_equal_to_the_factors_beside_noise(self):
        factors = grid(3, 4, 5, repeat=8)
        rng = np.random.default_rng(0)
        codes = np.c_[factors + rng.normal(0, 0.05, factors.shape)]
        codes = np.c_[codes, rng.normal(size=(len(codes), 3))]
        scores = evaluation.dci(codes, factors)
        assert scores["disentanglement"] > 0.9
        assert scores["completeness"] > 0.9
        assert scores["informativeness"] > 0.95

    def test_noise_is_neither_disentangled_nor_informative(self):
        factors = grid(3, 4, 5, repeat=8)
        codes = np.random.default_rng(0).normal(size=(len(factors), 4))
        scores = evaluation.dci(codes, factors)
        assert scores["disentanglement"] < 0.3
        assert scores["informativeness"] < 0.5  # chance: 1/3, 1/4, 1/5

    def test_the_disentanglement_lib_estimator(self):
        factors = grid(2, 3, repeat=40)
        codes = factors + np.random.default_rng(0).normal(0, 0.05, factors.shape)
        scores = evaluation.dci(codes, factors, estimator="disentanglement_lib")
        assert scores["disentanglement"] > 0.9
        assert scores["informativeness"] == 1.0


class TestInterventionScores:
    @pytest.mark.parametrize(
        "score", [evaluation.beta_vae_score, evaluation.factor_vae_score]
    )
    def test_codes_equal_to_the_factors_score_one(self, score):
        factors = grid(3, 4, 5, repeat=4)
        codes = factors.astype("float64")
        assert score(codes, factors, num_train=500, num_eval=300) == 1.0

    @pytest.mark.parametrize(
        "score", [evaluation.beta_vae_score, evaluation.factor_vae_score]
    )
    def test_noise_scores_near_chance(self, score):
        factors = grid(3, 4, 5, repeat=20)
        codes = np.random.default_rng(0).normal(size=(len(factors), 4))
        accuracy = score(codes, factors, num_train=600, num_eval=600)
        assert abs(accuracy - 1 / 3) < 0.12

    def test_factor_vae_does_not_see_a_duplicated_factor(self):
        factors = grid(3, 4, 5, repeat=4)
        codes = factors[:, [0, 0, 1, 2]].astype("float64")
        assert evaluation.factor_vae_score(codes, factors, num_train=300) == 1.0

    def test_factor_vae_without_active_dimensions_is_zero(self):
        factors = grid(3, 4, repeat=5)
        codes = np.random.default_rng(0).normal(0, 0.01, (len(factors), 3))
        assert evaluation.factor_vae_score(codes, factors) == 0.0

    def test_factor_vae_majority_vote_follows_kim_and_mnih(self):
        # Dimension 0 is factor 0 exactly; dimension 1 mixes factors 1 and 2,
        # so fixing either shrinks it by the same share, and each fixed factor
        # votes for dimension 1. The classifier maps dimension 1 to one of the
        # two: half of those votes are right.
        factors = grid(4, 4, 4, repeat=4)
        codes = np.c_[factors[:, 0], factors[:, 1] + factors[:, 2]].astype("float64")
        accuracy = evaluation.factor_vae_score(
            codes, factors, num_train=3000, num_eval=3000
        )
        assert abs(accuracy - 2 / 3) < 0.04


def test_all_metrics_at_once():
    factors = grid(3, 4, 5, repeat=8)
    codes = factors + np.random.default_rng(0).normal(0, 0.05, factors.shape)
    scores = evaluation.disentanglement_metrics(codes, factors)
    assert set(scores) == {
        "mig",
        "sap",
        "dci_disentanglement",
        "dci_completeness",
        "dci_informativeness",
        "beta_vae_score",
        "factor_vae_score",
    }
    assert all(isinstance(value, float) for value in scores.values())
    assert scores["mig"] > 0.9 and scores["factor_vae_score"] == 1.0


FUNCTIONS = [
    evaluation.mutual_information_gap,
    evaluation.sap_score,
    evaluation.dci,
    evaluation.beta_vae_score,
    evaluation.factor_vae_score,
    evaluation.disentanglement_metrics,
]


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize(
    "codes, factors, message",
    [
        (np.zeros((10, 2)), grid(2, 5)[:9], "10 codes and 9 rows of factors"),
        (np.zeros((10, 2)), np.c_[grid(2, 5)[:, :1], np.full(10, 4)], "factor 1"),
        (np.full((10, 2), np.nan), grid(2, 5), "NaN or infinite"),
        (np.zeros(10), grid(2, 5), r"codes of shape \(n, latent_dim\)"),
        (np.zeros((10, 2)), np.arange(10), r"factors of shape \(n, num_factors\)"),
        (np.zeros((10, 2)), grid(2, 5) + 0.5, "integer indices"),
    ],
)
def test_bad_inputs_are_one_clear_error(function, codes, factors, message):
    with pytest.raises(ValueError, match=message):
        function(codes, factors)


@pytest.mark.parametrize(
    "function", [evaluation.mutual_information_gap, evaluation.sap_score]
)
def test_a_gap_needs_two_code_dimensions(function):
    factors = grid(2, 5)
    with pytest.raises(ValueError, match="at least 2"):
        function(factors[:, :1].astype("float64"), factors)


@pytest.mark.parametrize(
    "function", [evaluation.beta_vae_score, evaluation.factor_vae_score]
)
def test_a_batch_of_one_is_refused(function):
    factors = grid(2, 5)
    with pytest.raises(ValueError, match="batch_size"):
        function(factors.astype("float64"), factors, batch_size=1)


def test_an_unknown_dci_estimator_is_refused():
    factors = grid(2, 5)
    with pytest.raises(ValueError, match="'fast', 'disentanglement_lib'"):
        evaluation.dci(factors, factors, estimator="lasso")

"""How well scores separate normal images from anomalies."""

import numpy as np


def detection_metrics(normal_scores, anomaly_scores):
    """AUROC, AUPRC and the false-positive rate at 95 % true positives.

    Anomalies are the positive class, and higher scores mean more anomalous.

    Args:
        normal_scores: Array `(n,)`, the scores of normal images.
        anomaly_scores: Array `(m,)`, the scores of anomalies.

    Returns:
        Dict of floats: `auroc` (0.5 is chance, 1 perfect), `auprc` (average
        precision; chance is the anomalies' fraction), `fpr_at_95_tpr` (the
        fraction of normal images flagged when 95 % of anomalies are).

    Example:

    ```python
    import keras_vae

    metrics = keras_vae.anomaly.detection_metrics([0.1, 0.2, 0.3], [0.25, 0.9])
    print(metrics["auroc"])  # 0.8333...: 5 of the 6 pairs are ordered right
    ```
    """
    from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

    normal = np.asarray(normal_scores, "float64").ravel()
    anomalies = np.asarray(anomaly_scores, "float64").ravel()
    if not len(normal) or not len(anomalies):
        raise ValueError(
            "Expected scores of normal images and of anomalies. Received "
            f"{len(normal)} normal and {len(anomalies)} anomalous."
        )
    truth = np.concatenate([np.zeros(len(normal)), np.ones(len(anomalies))])
    values = np.concatenate([normal, anomalies])
    if not np.isfinite(values).all():
        raise ValueError("The scores hold NaN or infinite values.")
    false_positives, true_positives, _ = roc_curve(truth, values)
    return {
        "auroc": float(roc_auc_score(truth, values)),
        "auprc": float(average_precision_score(truth, values)),
        "fpr_at_95_tpr": float(false_positives[np.argmax(true_positives >= 0.95)]),
    }

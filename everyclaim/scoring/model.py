"""The recovery model: P(a follow-up touch recovers money) and the collectible amount, per claim.

``train(history, settings)`` splits the resolved denials by denial date (oldest 60% train, next 20%
calibrate, newest 20% test, whole claims per split), fits scikit-learn's HistGradientBoostingClassifier
(or LightGBM with ``model.engine: lightgbm``) on the train split, calibrates its probabilities with isotonic regression on the calibration split and
measures the result on the test split (:class:`Evaluation`). Besides the frame's features it uses the
payer's historic overturn rate for the denial category (smoothed toward the category's rate, leave one
claim out on the rows it is trained on).

With fewer than ``settings.min_examples`` resolved denials, or only one outcome among them, the model is
the documented priors instead: P = p(category) x 0.5 ** (days since denial / half_life(category)).

The collectible amount is the open balance times the payer's observed recovered/balance ratio among
recovered denials (its allowed/charge ratio when it has none).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from everyclaim.scoring.frames import CATEGORICAL, NUMERIC, Frame
from everyclaim.scoring.settings import Settings

SMOOTHING = 20.0  # pseudo-claims pulling a payer's rate toward its category's
TOPS = (0.10, 0.16, 0.20)


@dataclass
class Evaluation:
    rows: dict[str, int]  # split -> examples
    claims: dict[str, int]
    base_rate: float
    auc: float | None
    brier: float
    brier_constant: float
    reliability: list[dict[str, float]]
    top_share: dict[str, dict[str, float]]  # "16%" -> {"net_value": .., "balance": .., "age": ..}

    def as_json(self) -> dict[str, Any]:
        return {"rows": self.rows, "claims": self.claims, "base_rate": round(self.base_rate, 4),
                "auc": None if self.auc is None else round(self.auc, 4), "brier": round(self.brier, 4),
                "brier_constant": round(self.brier_constant, 4), "reliability": self.reliability,
                "top_share": self.top_share}  # fmt: skip


@dataclass
class RecoveryModel:
    kind: str  # "model" | "priors"
    settings: Settings
    examples: int = 0  # resolved denials it learned from
    vocab: dict[str, dict[str, int]] = field(default_factory=dict)
    cat_rate: dict[str, float] = field(default_factory=dict)
    pc_stats: dict[str, tuple[float, float]] = field(default_factory=dict)  # payer|category -> (sum y, n)
    global_rate: float = 0.0
    amount_ratio: dict[str, float] = field(default_factory=dict)
    clf: Any = None
    iso: Any = None

    def predict_p(self, frame: Frame) -> np.ndarray:
        if self.kind == "priors":
            return prior_p(frame, self.settings)
        with _threads(self.settings):
            raw = self.clf.predict_proba(self.matrix(frame))[:, 1]
        return np.clip(self.iso.predict(raw), 0.0, 1.0)

    def collectible_cents(self, frame: Frame) -> np.ndarray:
        bal = np.maximum(frame.num["balance_cents"], 0.0)
        ratio = frame.num["payer_allowed_ratio"].copy()
        learned = np.array([self.amount_ratio.get(p, np.nan) for p in frame.cat["payer_id"]], "f8")
        ratio = np.where(np.isnan(learned), ratio, learned)
        ratio = np.where(np.isnan(ratio), self.amount_ratio.get("", 1.0), ratio)
        return bal * np.clip(ratio, 0.0, 1.0)

    # -- features -----------------------------------------------------------------------------------
    def pc_rate(self, frame: Frame, own_y: np.ndarray | None = None) -> np.ndarray:
        """The payer's overturn rate for the row's category; ``own_y`` leaves the row's claim out."""
        keys = [f"{p}|{c}" for p, c in zip(frame.cat["payer_id"], frame.cat["denial_category"], strict=True)]
        s = np.array([self.pc_stats.get(k, (0.0, 0.0))[0] for k in keys], "f8")
        n = np.array([self.pc_stats.get(k, (0.0, 0.0))[1] for k in keys], "f8")
        if own_y is not None:
            s, n = s - own_y, n - 1
        prior = np.array([self.cat_rate.get(c, self.global_rate) for c in frame.cat["denial_category"]], "f8")
        return (s + SMOOTHING * prior) / (n + SMOOTHING)

    def matrix(self, frame: Frame, own_y: np.ndarray | None = None) -> np.ndarray:
        cols = [frame.num[k] for k in NUMERIC] + [self.pc_rate(frame, own_y)]
        for k in CATEGORICAL:
            v = self.vocab[k]
            cols.append(np.array([v.get(x, np.nan) for x in frame.cat[k]], "f8"))
        return np.column_stack(cols) if cols else np.zeros((0, 0))


def _threads(settings: Settings) -> Any:
    """OpenMP threads for the trees: on a busy small machine one thread is many times cheaper than two
    spinning ones (measured: 0.6 s against 18 s of CPU for the demo's history)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(settings.model.threads)


def prior_p(frame: Frame, settings: Settings) -> np.ndarray:
    cats = frame.cat["denial_category"]
    p = np.array([settings.prior(c).p for c in cats], "f8")
    hl = np.array([settings.prior(c).half_life for c in cats], "f8")
    age = np.nan_to_num(np.maximum(frame.num["days_since_denial"], 0.0))
    return p * 0.5 ** (age / hl)


def _splits(frame: Frame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row masks of the time split: claims ordered by denial date, 60/20/20."""
    order = frame.extra["order"]
    n = int(order.max()) + 1 if len(order) else 0
    return order < 0.6 * n, (order >= 0.6 * n) & (order < 0.8 * n), order >= 0.8 * n


def train(history: Frame, settings: Settings) -> tuple[RecoveryModel, Evaluation | None]:
    """Fit, calibrate and evaluate on ``history`` (priors when it is too thin); see the module docstring."""
    claims = int(history.extra["order"].max()) + 1 if len(history) else 0
    y = history.extra["y"] if len(history) else np.zeros(0, "i8")
    if claims < settings.min_examples or len(np.unique(y)) < 2:
        return RecoveryModel("priors", settings, claims), None
    tr, ca, te = _splits(history)
    with _threads(settings):
        model = _fit(history.take(np.flatnonzero(tr)), settings, claims)
        cal = history.take(np.flatnonzero(ca))
        raw = model.clf.predict_proba(model.matrix(cal))[:, 1]
    from sklearn.isotonic import IsotonicRegression

    model.iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0)
    model.iso.fit(raw, cal.extra["y"])
    test = history.take(np.flatnonzero(te))
    counts = {"train": int(tr.sum()), "calibrate": int(ca.sum()), "test": int(te.sum())}
    claim_counts = {k: len(np.unique(history.extra["order"][m])) for k, m in (("train", tr), ("calibrate", ca),
                                                                               ("test", te))}  # fmt: skip
    return model, evaluate(model, test, float(history.extra["y"][tr].mean()), counts, claim_counts)


def _fit(train_frame: Frame, settings: Settings, claims: int) -> RecoveryModel:
    from sklearn.ensemble import HistGradientBoostingClassifier

    y = train_frame.extra["y"]
    m = RecoveryModel("model", settings, claims)
    m.vocab = {k: {v: i for i, v in enumerate(sorted(set(train_frame.cat[k])))} for k in CATEGORICAL}
    first = train_frame.num["days_since_denial"] == 0  # one row per claim: its outcome
    cats, payers, y0 = train_frame.cat["denial_category"][first], train_frame.cat["payer_id"][first], y[first]
    m.global_rate = float(y0.mean()) if len(y0) else 0.0
    for c in set(cats):
        sel = cats == c
        m.cat_rate[c] = float((y0[sel].sum() + SMOOTHING * m.global_rate) / (sel.sum() + SMOOTHING))
    for p, c, yy in zip(payers, cats, y0, strict=True):
        s, n = m.pc_stats.get(f"{p}|{c}", (0.0, 0.0))
        m.pc_stats[f"{p}|{c}"] = (s + yy, n + 1)
    claim_y = dict(zip(train_frame.extra["claim_id"][first], y0, strict=True))
    own = np.array([claim_y.get(cid, 0) for cid in train_frame.extra["claim_id"]], "f8")
    pos = y > 0
    bal = np.maximum(train_frame.num["balance_cents"], 1.0)
    for p in set(train_frame.cat["payer_id"][pos]):
        sel = pos & (train_frame.cat["payer_id"] == p)
        m.amount_ratio[p] = float(np.median(train_frame.extra["recovered_cents"][sel] / bal[sel]))
    m.amount_ratio[""] = float(np.median(train_frame.extra["recovered_cents"][pos] / bal[pos])) if pos.any() else 1.0
    k = settings.model
    n_num = len(NUMERIC) + 1
    mask = np.array([False] * n_num + [True] * len(CATEGORICAL))
    x = m.matrix(train_frame, own_y=own)
    if k.engine == "lightgbm":
        m.clf = _lightgbm(k)
        m.clf.fit(x, y, categorical_feature=[int(i) for i in np.flatnonzero(mask)])
        return m
    m.clf = HistGradientBoostingClassifier(
        max_iter=k.max_iter, learning_rate=k.learning_rate, max_leaf_nodes=k.max_leaf_nodes,
        min_samples_leaf=k.min_samples_leaf, l2_regularization=k.l2_regularization, random_state=k.random_state,
        categorical_features=mask,
    )  # fmt: skip
    m.clf.fit(x, y)
    return m


def _lightgbm(k: Any) -> Any:
    """LightGBM with the same knobs (``model.engine: lightgbm``; the optional ``lightgbm`` extra)."""
    try:
        from lightgbm import LGBMClassifier
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError('model.engine is lightgbm but LightGBM is not installed: pip install -e ".[lightgbm]"') from exc
    return LGBMClassifier(
        n_estimators=k.max_iter, learning_rate=k.learning_rate, num_leaves=k.max_leaf_nodes,
        min_child_samples=k.min_samples_leaf, reg_lambda=k.l2_regularization, random_state=k.random_state,
        n_jobs=k.threads or 0, verbose=-1, deterministic=True, force_col_wise=True,
    )  # fmt: skip


def evaluate(model: RecoveryModel, test: Frame, base_rate: float, rows: dict[str, int],
             claims: dict[str, int]) -> Evaluation:  # fmt: skip
    """AUC, Brier against a constant, a 10-bin reliability table and the top-k recovered-dollar shares."""
    from sklearn.metrics import roc_auc_score

    y = test.extra["y"]
    p = model.predict_p(test)
    auc = float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else None
    brier = float(np.mean((p - y) ** 2)) if len(y) else 0.0
    brier_c = float(np.mean((base_rate - y) ** 2)) if len(y) else 0.0
    bins = np.minimum((p * 10).astype(int), 9)
    reliability = [{"bin": f"{b / 10:.1f}-{(b + 1) / 10:.1f}", "claims": int((bins == b).sum()),
                    "predicted": round(float(p[bins == b].mean()), 4), "observed": round(float(y[bins == b].mean()), 4)}
                   for b in range(10) if (bins == b).any()]  # fmt: skip
    value = p * model.collectible_cents(test)
    rankings = {"net_value": value, "balance": test.num["balance_cents"], "age": test.num["days_since_denial"]}
    return Evaluation(rows, claims, base_rate, auc, brier, brier_c, reliability,
                      top_shares(test.extra["recovered_cents"], rankings))


def top_shares(recovered: np.ndarray, rankings: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    """Share of all recovered dollars in the top 10/16/20% of each ranking (ties: earlier row first)."""
    total = float(recovered.sum()) or 1.0
    out: dict[str, dict[str, float]] = {}
    for top in TOPS:
        k = int(np.ceil(top * len(recovered)))
        out[f"{top:.0%}"] = {name: round(float(recovered[np.argsort(-score, kind="stable")[:k]].sum()) / total, 4)
                             for name, score in rankings.items()}  # fmt: skip
    return out

"""Scoring settings: the economics of a touch and the model's knobs, as data (``data/scoring.yaml``).

``load_settings(path)`` reads the built-in file and, when ``path`` is given, overrides it key by key with
the user's YAML (nested mappings merge), then validates the result. Every key is documented in the
built-in file; a test fails when one is not.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class Prior(BaseModel):
    model_config = ConfigDict(extra="forbid")
    p: float = Field(ge=0, le=1)
    half_life: float = Field(gt=0)


class ModelKnobs(BaseModel):
    model_config = ConfigDict(extra="forbid")
    engine: Literal["hgb", "lightgbm"] = "hgb"  # lightgbm needs the optional extra: pip install -e ".[lightgbm]"
    max_iter: int = Field(ge=1)
    learning_rate: float = Field(gt=0)
    max_leaf_nodes: int = Field(ge=2)
    min_samples_leaf: int = Field(ge=1)
    l2_regularization: float = Field(ge=0)
    random_state: int
    threads: int | None = Field(default=1, ge=1)


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = 1
    labor_rate: float = Field(ge=0)
    minutes_per_touch: float = Field(ge=0)
    expected_touches: dict[str, float]
    automated_touches: float = Field(ge=0)
    overhead: float = Field(ge=0)
    urgency_days: int = Field(ge=0)
    urgency_boost: float = Field(ge=1)
    min_examples: int = Field(ge=1)
    horizons: list[int] = Field(min_length=1)
    priors: dict[str, Prior]
    model: ModelKnobs
    touches_per_day: float = Field(gt=0)
    days_per_week: int = Field(ge=1, le=7)

    def touches(self, action: str) -> float:
        return self.expected_touches.get(action, self.expected_touches.get("other", 3.0))

    def touch_cost_cents(self) -> float:
        """Labour cost of one staff touch, in cents."""
        return self.labor_rate / 60 * self.minutes_per_touch * 100

    def prior(self, category: str) -> Prior:
        return self.priors.get(category) or self.priors.get("other") or Prior(p=0.25, half_life=45)


class SettingsError(ValueError):
    """A settings file that cannot be used; the message names the file and the key."""


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def builtin_text() -> str:
    return resources.files("everyclaim.scoring").joinpath("data/scoring.yaml").read_text(encoding="utf-8")


def load_settings(path: Path | None = None) -> Settings:
    """The built-in settings, overridden by ``path`` when given."""
    doc = yaml.safe_load(builtin_text())
    if path is not None:
        try:
            over = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise SettingsError(f"{path}: cannot read settings ({type(exc).__name__})") from None
        if not isinstance(over, dict):
            raise SettingsError(f"{path}: expected a mapping of settings")
        doc = _merge(doc, over)
    try:
        return Settings.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"])
        raise SettingsError(f"{path or 'scoring.yaml'}: {where}: {first['msg']}") from None

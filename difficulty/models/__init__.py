"""Difficulty models: one interface (:mod:`.base`), one class per model, one registry.

Each class names its registry entries in ``variants`` (with the parameters held fixed when that
entry is fitted: ``beta`` is the Beta model with A = 1, ``zi-beta`` the same class with A free)
and may add ``aliases``. Every command resolves a name here.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from ..errors import DifficultyError
from .base import DifficultyModel, Param, PassCurveModel
from .beta import BetaModel
from .curves import ExpPowerLawModel, NegLogPowerLawModel
from .effective_k import CorrelatedTrialsModel, EffectiveKBetaModel, EffectiveKModel, effective_k
from .kumaraswamy import KumaraswamyModel
from .mixture import BetaMixtureModel, mixture_class
from .point import PointMassModel
from .scaled_beta import ScaledBetaModel

# the registry: one line per model class, "module:Class" under difficulty.models
REGISTRY = (
    "beta:BetaModel",
    "kumaraswamy:KumaraswamyModel",
    "scaled_beta:ScaledBetaModel",
    "mixture:BetaMixtureModel",
    "point:PointMassModel",
    "effective_k:EffectiveKModel",
    "effective_k:EffectiveKBetaModel",
    "curves:ExpPowerLawModel",
    "curves:NegLogPowerLawModel",
    "logit_normal:LogitNormalModel",
)
MODEL_CLASSES: tuple[type[PassCurveModel], ...] = tuple(
    getattr(importlib.import_module(f".{mod}", __name__), cls) for mod, cls in (e.split(":") for e in REGISTRY))


@dataclass(frozen=True)
class ModelSpec:
    """A registry entry: a model class and the parameters held fixed when it is fitted."""

    name: str
    cls: type
    fixed: dict = field(default_factory=dict)

    @property
    def free(self) -> tuple[Param, ...]:
        return tuple(p for p in self.cls.param_space() if p.name not in self.fixed)

    @property
    def per_problem(self) -> bool:
        """Whether the model is a distribution of per-problem difficulty with a counts likelihood."""
        if not issubclass(self.cls, DifficultyModel):
            return False
        try:
            self.cls.marginal_evaluator([1], [0])
        except DifficultyError:
            return False
        return True


def _build_registry():
    specs, aliases = {}, {}
    for cls in MODEL_CLASSES:
        for name, fixed in (cls.variants or {cls.name: {}}).items():
            specs[name] = ModelSpec(name, cls, dict(fixed))
        aliases.update(getattr(cls, "aliases", {}))
    return specs, aliases


MODELS, ALIASES = _build_registry()


def resolve(name) -> ModelSpec:
    """The registry entry of a model name or alias (or a ModelSpec / model class, passed through)."""
    if isinstance(name, ModelSpec):
        return name
    if isinstance(name, type) and issubclass(name, PassCurveModel):
        return ModelSpec(name.name, name, {})
    key = ALIASES.get(name, name)
    if key in MODELS:
        return MODELS[key]
    for cls in MODEL_CLASSES:
        found = getattr(cls, "resolve_variant", lambda n: None)(key)
        if found is not None:
            return ModelSpec(key, found[0], dict(found[1]))
    raise DifficultyError(f"unknown model {name!r}; models are {', '.join(MODELS)}")


def make_model(name: str, **params) -> PassCurveModel:
    """Build a model by its registry name, e.g. ``make_model("beta", alpha=2, beta=0.35)``.
    Parameters held fixed by the entry (A = 1 for ``beta``) are defaults, not constraints."""
    spec = resolve(name)
    return spec.cls(**{**{k: v for k, v in spec.fixed.items() if k not in params}, **params})


__all__ = ["MODELS", "ALIASES", "MODEL_CLASSES", "ModelSpec", "resolve", "make_model", "PassCurveModel",
           "DifficultyModel", "Param", "BetaModel", "PointMassModel", "EffectiveKModel", "EffectiveKBetaModel",
           "CorrelatedTrialsModel", "KumaraswamyModel", "ScaledBetaModel", "BetaMixtureModel", "mixture_class",
           "ExpPowerLawModel", "NegLogPowerLawModel", "effective_k"]

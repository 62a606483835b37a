"""Difficulty models: one interface (see :mod:`.base`), one class per model."""
from __future__ import annotations

from ..errors import DifficultyError
from .base import DifficultyModel, Param, PassCurveModel
from .beta import BetaModel
from .curves import ExpPowerLawModel, NegLogPowerLawModel
from .effective_k import CorrelatedTrialsModel, EffectiveKBetaModel, EffectiveKModel, effective_k
from .mixture import BetaMixtureModel
from .point import PointMassModel
from .success import KumaraswamyModel, ScaledBetaModel

MODELS: dict[str, type[PassCurveModel]] = {
    cls.name: cls
    for cls in (BetaModel, PointMassModel, EffectiveKModel, EffectiveKBetaModel, KumaraswamyModel,
                ScaledBetaModel, BetaMixtureModel, ExpPowerLawModel, NegLogPowerLawModel)
}


def make_model(name: str, **params) -> PassCurveModel:
    """Build a model by its registry name, e.g. ``make_model("beta", alpha=2, beta=0.35)``."""
    try:
        cls = MODELS[name]
    except KeyError:
        raise DifficultyError(f"unknown model {name!r}; models are {', '.join(MODELS)}") from None
    return cls(**params)


__all__ = ["MODELS", "make_model", "PassCurveModel", "DifficultyModel", "Param", "BetaModel",
           "PointMassModel", "EffectiveKModel", "EffectiveKBetaModel", "CorrelatedTrialsModel",
           "KumaraswamyModel", "ScaledBetaModel", "BetaMixtureModel", "ExpPowerLawModel",
           "NegLogPowerLawModel", "effective_k"]

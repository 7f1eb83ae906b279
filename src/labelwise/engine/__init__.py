"""The data engine: one loop from an unlabeled pool to a trained model, at the lowest cost.

It joins what exists: active learning chooses the items (:mod:`labelwise.active`),
routing decides who and how many times (:mod:`labelwise.routing`), aggregation with
the model as a per-item prior says what the label is (:mod:`labelwise.aggregate`),
audit sends contradicted labels back, and the learning curve
(:mod:`labelwise.scaling`) says whether the budget can reach the target.

- :mod:`~labelwise.engine.loop`: :class:`DataEngine`, :class:`EngineConfig`,
  :class:`EngineResult`;
- :mod:`~labelwise.engine.oracles`: where answers come from (a label array, a
  simulated crowd, a replayed real annotation file, the labeling service);
- :mod:`~labelwise.engine.ledger`: every answer with its cost, round and annotator;
- :mod:`~labelwise.engine.store`: the per-round state, saved atomically, for resume;
- :mod:`~labelwise.engine.journal`: every answer written to disk as it is bought, so a
  resumed run pays for nothing twice;
- :mod:`~labelwise.engine.forecast`: the accuracy the whole budget buys, from a learning
  curve on the engine's own rounds, with its interval;
- :mod:`~labelwise.engine.versioning`: a dataset version per round (``versions/round-NNNN``).
"""

from __future__ import annotations

from labelwise.engine.ledger import Ledger
from labelwise.engine.loop import (
    DECISIONS,
    BudgetError,
    DataEngine,
    EngineConfig,
    EngineResult,
    OracleExhaustedError,
    TargetUnreachableError,
)
from labelwise.engine.oracles import (
    LabelArrayOracle,
    LabelingServiceOracle,
    Oracle,
    OracleAnswers,
    ReplayedCrowdOracle,
    ServiceClient,
    SimulatedCrowdOracle,
)

__all__ = [
    "DECISIONS",
    "BudgetError",
    "DataEngine",
    "EngineConfig",
    "EngineResult",
    "LabelArrayOracle",
    "LabelingServiceOracle",
    "Ledger",
    "Oracle",
    "OracleAnswers",
    "OracleExhaustedError",
    "ReplayedCrowdOracle",
    "ServiceClient",
    "SimulatedCrowdOracle",
    "TargetUnreachableError",
]

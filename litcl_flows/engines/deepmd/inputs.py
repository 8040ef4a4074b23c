"""DeePMD-kit training input (``input.json``) as a dataclass; defaults: the study's model."""

from __future__ import annotations

import json
import math
import re
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from monty.json import MSONable

INPUT_FILE = "input.json"
#: A schedule underfits when it holds ``start_lr`` for at least this fraction of the steps ...
MAX_FRACTION_AT_START_LR = 0.5
#: ... or divides the learning rate by more than this in one stair.
MAX_STAIR_DROP = 100.0
#: Largest seed: ``dp train`` folds the training seed into [0, 2**32) for numpy.
MAX_SEED = 2**32 - 1
#: ``sel`` as text: ``auto`` or ``auto:RATIO`` (neighbours seen in the data × RATIO ≥ 1).
_AUTO_SEL = re.compile(r"auto(:(?P<ratio>[0-9.eE+-]+))?")
#: ``batch_size`` as text for litcl's (not mixed-type) systems: ``auto``, ``auto:N``,
#: ``max:N``, ``filter:N`` (N atoms per batch).
_TEXT_BATCH = re.compile(r"auto|(auto|max|filter):(?P<atoms>[0-9]+)")
_LOSS_PREFACTORS = tuple(
    f"{end}_pref_{quantity}" for quantity in "efv" for end in ("start", "limit")
)
#: Where each field lands in ``input.json``: DeePMD-kit's checker names the key there.
_INPUT_KEYS: dict[tuple[str, str], str] = {
    ("model/descriptor", "rcut"): "rcut_A",
    ("model/descriptor", "rcut_smth"): "rcut_smth_A",
    ("model/descriptor", "sel"): "sel",
    ("model/descriptor", "neuron"): "embedding_neurons",
    ("model/descriptor", "axis_neuron"): "axis_neuron",
    ("model/descriptor", "activation_function"): "activation",
    ("model/descriptor", "seed"): "seed",
    ("model/fitting_net", "neuron"): "fitting_neurons",
    ("model/fitting_net", "activation_function"): "activation",
    ("model/fitting_net", "seed"): "seed",
    ("learning_rate", "start_lr"): "start_lr",
    ("learning_rate", "stop_lr"): "stop_lr",
    ("learning_rate", "decay_steps"): "decay_steps",
    ("training", "numb_steps"): "numb_steps",
    ("training", "seed"): "seed",
    ("training", "disp_freq"): "disp_freq",
    ("training", "save_freq"): "save_freq",
    ("training/training_data", "batch_size"): "batch_size",
    ("training/validation_data", "numb_btch"): "valid_numb_batch",
    **{("loss", name): name for name in _LOSS_PREFACTORS},
}
_POSITIVE_INTS = (
    "axis_neuron",
    "decay_steps",
    "numb_steps",
    "valid_numb_batch",
    "disp_freq",
    "save_freq",
)


class LearningRateWarning(UserWarning):
    """A learning-rate schedule that underfits (:meth:`DeepmdTrainingInput.schedule_problem`)."""


class DeepmdSettingError(ValueError):
    """A training setting ``dp train`` would refuse or misuse, in one line naming it.

    ``fields`` are the :class:`DeepmdTrainingInput` fields the problem involves.
    """

    def __init__(self, message: str, fields: tuple[str, ...]) -> None:
        super().__init__(message)
        self.fields = fields


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _yaml_hint(value: Any) -> str:
    """Why a number arrived as text: quoted, or YAML 1.1's ``1e-3`` (no dot) is a string."""
    if not isinstance(value, str):
        return ""
    try:
        number = float(value)
    except ValueError:
        return ""
    if not math.isfinite(number):
        return ""
    if "e" not in value.lower() or "." in value:
        return " (a number in quotes is text: drop the quotes)"
    written = f"{int(number)}" if number.is_integer() else f"{number:.1e}"
    return f" (YAML reads {value} as text: write {written})"


@dataclass(frozen=True)
class LearningRateSummary:
    """DeePMD-kit's stepped exponential decay as ``dp train`` will run it.

    Parameters
    ----------
    decay_steps
        Steps per stair after DeePMD-kit's own adjustment (it replaces a ``decay_steps`` of
        at least ``numb_steps``).
    decay_rate
        Factor applied at each stair, ``(stop_lr / start_lr) ** (decay_steps / numb_steps)``.
    steps_at_start_lr
        Training steps run at ``start_lr`` (the first stair).
    stair_drop
        ``1 / decay_rate``: how many times smaller the learning rate gets at each stair.
    last_lr
        Learning rate of the last training step (``numb_steps - 1``).
    """

    decay_steps: int
    decay_rate: float
    steps_at_start_lr: int
    stair_drop: float
    last_lr: float


@dataclass
class DeepmdTrainingInput(MSONable):
    """Settings of one ``dp --tf train`` run: a DeepPot-SE (``se_e2_a``) energy model.

    Defaults reproduce the reference study (docs/deepmd.md) except ``decay_steps`` (500, not
    the study's 5000, which leaves the rate at its start value for half the run and then drops
    it 316-fold in one stair; the paper spec keeps 5000 and warns); :meth:`demo` is a preset
    small enough to train in a couple of minutes on two CPU cores.

    Parameters
    ----------
    rcut_A
        Cut-off radius of the descriptor (study: 7.0 Å).
    rcut_smth_A
        Radius where the 1/r weights start to go smoothly to zero at ``rcut_A``; 0.5 Å is the
        value of DeePMD-kit's own examples (the study does not give one).
    sel
        Maximum number of neighbours per type inside ``rcut_A``: ``"auto"`` lets ``dp train``
        compute it from the data (with a 10 % margin), or one integer per type.
    embedding_neurons
        Embedding-net widths (study: [32, 64, 128]).
    axis_neuron
        Size of the sub-matrix of the embedding output (DeePMD-kit default 16; not in the study).
    fitting_neurons
        Fitting-net widths (study: [256, 256, 256]).
    activation
        Activation function of both nets (study: tanh).
    start_lr, stop_lr, decay_steps
        Adam learning rate, decayed in stairs of ``decay_steps`` steps from ``start_lr``
        towards ``stop_lr`` at ``numb_steps`` (study: 1e-3 → 1e-8, 5000). The study's values
        give two stairs: 1e-3 for 5000 steps, then 3.2e-6 (see :meth:`schedule_problem`); the
        default 500 gives 20 stairs of ÷1.78.
    numb_steps
        Training steps (study: 1e4).
    start_pref_e, limit_pref_e, start_pref_f, limit_pref_f, start_pref_v, limit_pref_v
        Loss prefactors, interpolated from start to limit as the learning rate decays. The
        study trains on energy and force MSE only: DeePMD-kit's recommended 0.02 → 1 (energy),
        1000 → 1 (force), virial off (0 → 0).
    batch_size
        Frames per step, ``"auto"`` (≥ 32 atoms per batch) or an integer.
    valid_numb_batch
        Validation batches evaluated at each display step.
    disp_freq, save_freq
        Steps between ``lcurve.out`` rows and between checkpoints.
    seed
        Seed of the descriptor, fitting net and data shuffling (ensembles vary it).
    """

    rcut_A: float = 7.0
    rcut_smth_A: float = 0.5
    sel: str | list[int] = "auto"
    embedding_neurons: list[int] = field(default_factory=lambda: [32, 64, 128])
    axis_neuron: int = 16
    fitting_neurons: list[int] = field(default_factory=lambda: [256, 256, 256])
    activation: str = "tanh"
    start_lr: float = 1.0e-3
    stop_lr: float = 1.0e-8
    decay_steps: int = 500
    numb_steps: int = 10000
    start_pref_e: float = 0.02
    limit_pref_e: float = 1.0
    start_pref_f: float = 1000.0
    limit_pref_f: float = 1.0
    start_pref_v: float = 0.0
    limit_pref_v: float = 0.0
    batch_size: str | int = "auto"
    valid_numb_batch: int = 1
    disp_freq: int = 100
    save_freq: int = 1000
    seed: int = 1

    @classmethod
    def demo(cls, **overrides: Any) -> DeepmdTrainingInput:
        """A small model (rcut 5 Å, nets [8, 16] / [16, 16], 500 steps) for laptops and CI."""
        settings: dict[str, Any] = {
            "rcut_A": 5.0,
            "embedding_neurons": [8, 16],
            "axis_neuron": 4,
            "fitting_neurons": [16, 16],
            "stop_lr": 1.0e-5,
            "decay_steps": 100,
            "numb_steps": 500,
            "start_pref_e": 1.0,
            "disp_freq": 50,
            "save_freq": 100,
        }
        settings.update(overrides)
        return cls(**settings)

    def learning_rate(self) -> LearningRateSummary:
        """The learning-rate schedule, from DeePMD-kit's own ``LearningRateExp``."""
        from deepmd.dpmodel.utils.learning_rate import LearningRateExp

        schedule = LearningRateExp(
            start_lr=self.start_lr,
            stop_lr=self.stop_lr,
            decay_steps=self.decay_steps,
            num_steps=self.numb_steps,
        )
        return LearningRateSummary(
            decay_steps=int(schedule.decay_steps),
            decay_rate=float(schedule.decay_rate),
            steps_at_start_lr=min(int(schedule.decay_steps), self.numb_steps),
            stair_drop=1.0 / float(schedule.decay_rate),
            last_lr=float(schedule.value(self.numb_steps - 1)),
        )

    def schedule_problem(self) -> str | None:
        """One line saying why the learning-rate schedule underfits, or None when it does not.

        It underfits when the rate stays at ``start_lr`` for at least half of the steps or
        falls by more than 100× in one stair: most steps then run at a rate too small to
        move the weights (the study's 1e-3 → 1e-8 with ``decay_steps`` 5000 of 1e4 steps
        does both: 5000 steps at 1e-3, then 5000 at 3.2e-6).
        """
        lr = self.learning_rate()
        long_hold = lr.steps_at_start_lr >= MAX_FRACTION_AT_START_LR * self.numb_steps
        steep = lr.stair_drop > MAX_STAIR_DROP
        if not (long_hold or steep):
            return None
        suggested = max(1, self.numb_steps // 20)
        return (
            f"learning rate {self.start_lr:g} for {lr.steps_at_start_lr} of {self.numb_steps} "
            f"steps, then ÷{lr.stair_drop:.3g} per stair of {lr.decay_steps} steps "
            f"(last {lr.last_lr:.3g}): underfits; use decay_steps ≤ {suggested} "
            "(≥ 20 stairs)"
        )

    def check(self, type_map: list[str] | None = None) -> None:
        """Raise :class:`DeepmdSettingError` for a setting ``dp train`` would refuse or misuse.

        Ranges first, which DeePMD-kit leaves to the run (negative steps, frequencies, neuron
        widths and seeds pass its checker), then types with DeePMD-kit's own checker,
        ``deepmd.utils.argcheck.normalize``, on the ``input.json`` this input writes (a
        string ``numb_steps``, a float ``save_freq``). With ``type_map``, ``sel`` must also
        give one number per type.
        """
        problem = self._range_problem(type_map)
        if problem is not None:
            raise DeepmdSettingError(*problem)
        self._check_types(type_map or ["X"])

    def _range_problem(self, type_map: list[str] | None) -> tuple[str, tuple[str, ...]] | None:
        """The first value out of range, as (message, fields); values of a wrong type pass."""
        for name, value in vars(self).items():
            if isinstance(value, bool):
                return f"{name} = {value}: a boolean, not a number", (name,)
        decay = self.decay_steps
        if not _is_int(decay):
            # DeePMD-kit's learning-rate check compares it with 0 before checking its type.
            message = f"decay_steps = {decay!r}: must be an integer{_yaml_hint(decay)}"
            return message, ("decay_steps",)
        for name in _POSITIVE_INTS:
            value = getattr(self, name)
            if _is_int(value) and value <= 0:
                return f"{name} = {value}: must be a positive integer", (name,)
        if _is_int(self.seed) and not 0 <= self.seed <= MAX_SEED:
            return f"seed = {self.seed}: must be in 0 … 2**32 − 1", ("seed",)
        for name in ("embedding_neurons", "fitting_neurons"):
            widths = getattr(self, name)
            if not isinstance(widths, (list, tuple)) or not widths:
                return f"{name} = {widths!r}: must be a list of layer widths", (name,)
            if any(isinstance(w, bool) or (_is_int(w) and w <= 0) for w in widths):
                return f"{name} = {list(widths)}: widths must be positive integers", (name,)
        last_width = self.embedding_neurons[-1]
        if _is_int(self.axis_neuron) and _is_int(last_width) and self.axis_neuron > last_width:
            return (
                f"axis_neuron = {self.axis_neuron}: must be at most the last embedding width "
                f"({last_width}, embedding_neurons {list(self.embedding_neurons)})",
                ("axis_neuron", "embedding_neurons"),
            )
        for name in ("rcut_A", "rcut_smth_A", "start_lr", "stop_lr", *_LOSS_PREFACTORS):
            value = getattr(self, name)
            if isinstance(value, float) and not math.isfinite(value):
                return f"{name} = {value}: must be a finite number", (name,)
        rcut, rcut_smth = self.rcut_A, self.rcut_smth_A
        if _is_number(rcut) and rcut <= 0:
            return f"rcut_A = {rcut}: must be positive", ("rcut_A",)
        if _is_number(rcut_smth) and rcut_smth < 0:
            return f"rcut_smth_A = {rcut_smth}: must be ≥ 0", ("rcut_smth_A",)
        if _is_number(rcut) and _is_number(rcut_smth) and rcut_smth >= rcut:
            return (
                f"rcut_smth_A = {rcut_smth}: must be below rcut_A ({rcut})",
                ("rcut_smth_A", "rcut_A"),
            )
        start, stop = self.start_lr, self.stop_lr
        for name, value in (("start_lr", start), ("stop_lr", stop)):
            if _is_number(value) and value <= 0:
                return f"{name} = {value}: must be positive", (name,)
        if _is_number(start) and _is_number(stop) and stop >= start:
            return (
                f"stop_lr = {stop:g}: must be below start_lr ({start:g})",
                ("stop_lr", "start_lr"),
            )
        for name in _LOSS_PREFACTORS:
            value = getattr(self, name)
            if _is_number(value) and value < 0:
                return f"{name} = {value}: must be ≥ 0", (name,)
        return self._text_problem(type_map)

    def _text_problem(self, type_map: list[str] | None) -> tuple[str, tuple[str, ...]] | None:
        """``activation``, ``sel`` and ``batch_size`` that DeePMD-kit reads only at the run."""
        if isinstance(self.activation, str):
            from deepmd.common import VALID_ACTIVATION

            name = self.activation.lower()
            if name not in VALID_ACTIVATION and not name.startswith("silut"):
                return (
                    f"activation = {self.activation!r}: not one of "
                    f"{', '.join(sorted(VALID_ACTIVATION))}",
                    ("activation",),
                )
        sel = self.sel
        if isinstance(sel, str):
            match = _AUTO_SEL.fullmatch(sel)
            ratio = match and match["ratio"]
            try:
                bad = match is None or (ratio is not None and not float(ratio) >= 1)
            except ValueError:
                bad = True
            if bad:
                return f"sel = {sel!r}: must be 'auto', 'auto:RATIO' (≥ 1) or a list", ("sel",)
        elif isinstance(sel, (list, tuple)):
            if any(isinstance(n, bool) or (_is_int(n) and n <= 0) for n in sel):
                return f"sel = {list(sel)}: neighbour counts must be positive integers", ("sel",)
            if type_map is not None and len(sel) != len(type_map):
                return (
                    f"sel = {list(sel)}: needs one number per species ({len(type_map)}: "
                    f"{', '.join(type_map)}, in that order)",
                    ("sel",),
                )
        batch = self.batch_size
        if _is_int(batch) and batch <= 0:
            return f"batch_size = {batch}: must be a positive integer", ("batch_size",)
        if isinstance(batch, str):
            match = _TEXT_BATCH.fullmatch(batch)
            if match is None or (match["atoms"] is not None and int(match["atoms"]) <= 0):
                return (
                    f"batch_size = {batch!r}: must be a positive integer, 'auto', 'auto:N', "
                    "'max:N' or 'filter:N'",
                    ("batch_size",),
                )
        return None

    def _check_types(self, type_map: list[str]) -> None:
        """Types by DeePMD-kit's checker, its error mapped back to this input's field."""
        from dargs.dargs import ArgumentError
        from deepmd.utils.argcheck import normalize

        try:
            normalize(self.to_input_dict(type_map, ["train"], ["valid"]))
        except ArgumentError as error:
            first = next(iter((error.message or "").splitlines()), "")
            key = re.search(r"key `([^`]+)`", first)
            name = _INPUT_KEYS.get((error.path, key[1])) if key else None
            if name is None:
                where = error.path or "input.json"
                raise DeepmdSettingError(
                    f"DeePMD-kit's input check: {where}: {first}", ()
                ) from None
            wanted = re.search(r"requires (<[^>]*>)", first)
            value = getattr(self, name)
            raise DeepmdSettingError(
                f"{name} = {value!r}: DeePMD-kit's input check wants "
                f"{wanted[1] if wanted else 'another type'} at {error.path}/{key[1]}"
                f"{_yaml_hint(value)}",
                (name,),
            ) from None
        except (TypeError, ValueError) as error:
            line = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise DeepmdSettingError(f"DeePMD-kit's input check: {line}", ()) from None

    def with_updates(self, **changes: Any) -> DeepmdTrainingInput:
        """A copy with some fields changed (e.g. another ``seed`` for an ensemble member)."""
        return replace(self, **changes)

    def to_input_dict(
        self, type_map: list[str], train_systems: list[str], valid_systems: list[str]
    ) -> dict[str, Any]:
        """The ``input.json`` content for DeePMD-kit 3.x (schema: ``dp doc-train-input``)."""
        return {
            "model": {
                "type_map": list(type_map),
                "descriptor": {
                    "type": "se_e2_a",
                    "sel": self.sel,
                    "rcut": self.rcut_A,
                    "rcut_smth": self.rcut_smth_A,
                    "neuron": list(self.embedding_neurons),
                    "axis_neuron": self.axis_neuron,
                    "activation_function": self.activation,
                    "seed": self.seed,
                },
                "fitting_net": {
                    "neuron": list(self.fitting_neurons),
                    "activation_function": self.activation,
                    "seed": self.seed,
                },
            },
            "learning_rate": {
                "type": "exp",
                "start_lr": self.start_lr,
                "stop_lr": self.stop_lr,
                "decay_steps": self.decay_steps,
            },
            "loss": {
                "type": "ener",
                "start_pref_e": self.start_pref_e,
                "limit_pref_e": self.limit_pref_e,
                "start_pref_f": self.start_pref_f,
                "limit_pref_f": self.limit_pref_f,
                "start_pref_v": self.start_pref_v,
                "limit_pref_v": self.limit_pref_v,
            },
            "training": {
                "training_data": {"systems": list(train_systems), "batch_size": self.batch_size},
                "validation_data": {
                    "systems": list(valid_systems),
                    "batch_size": 1,
                    "numb_btch": self.valid_numb_batch,
                },
                "numb_steps": self.numb_steps,
                "seed": self.seed,
                "disp_file": "lcurve.out",
                "disp_freq": self.disp_freq,
                "save_freq": self.save_freq,
            },
        }


def warn_on_schedule(training_input: DeepmdTrainingInput, label: str) -> str | None:
    """Warn (:class:`LearningRateWarning`, one line prefixed by ``label``) if it underfits.

    Returns the problem, or None.
    """
    problem = training_input.schedule_problem()
    if problem is not None:
        warnings.warn(f"{label}: {problem}", LearningRateWarning, stacklevel=2)
    return problem


def write_input_json(
    directory: str | Path,
    training_input: DeepmdTrainingInput,
    type_map: list[str],
    train_systems: list[str],
    valid_systems: list[str],
) -> Path:
    """Write ``input.json`` into ``directory`` and return its path."""
    path = Path(directory) / INPUT_FILE
    content = training_input.to_input_dict(type_map, train_systems, valid_systems)
    path.write_text(json.dumps(content, indent=2))
    return path

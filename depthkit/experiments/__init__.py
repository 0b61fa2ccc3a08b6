"""Experiments: one YAML file for a whole grid of grammars x models x tasks, run with `depthkit run`.

==========  ===========================================================================
module      concept
==========  ===========================================================================
``spec``    the experiment file: typed records, validation with file/line/field/fix
``plan``    the grid as pure data; every output folder named by a content hash of its inputs
``runner``  generate -> verify -> eval per cell, skipping finished steps, then one report
``demo``    the demo experiment (experiments/demo.yaml) and its command-line overrides
==========  ===========================================================================

Notebook use::

    from depthkit.experiments import load_experiment, run_experiment
    result = run_experiment(load_experiment("experiments/demo.yaml"), "generated/demo")
"""

from __future__ import annotations

from .plan import Cell, GenerateStep, Plan, content_key, make_plan
from .runner import RunResult, plan_experiment, run_experiment, step_status
from .spec import Experiment, ModelEntry, experiment_from_dict, load_experiment

__all__ = ["Cell", "Experiment", "GenerateStep", "ModelEntry", "Plan", "RunResult", "content_key",
           "experiment_from_dict", "load_experiment", "make_plan", "plan_experiment", "run_experiment", "step_status"]

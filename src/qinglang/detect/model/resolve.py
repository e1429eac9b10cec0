"""Which abuse model a Detector uses: the shipped artifact, a file, or none."""

from __future__ import annotations

import os
from pathlib import Path

from qinglang.detect.model.artifact import AbuseModel

MODEL_PATH_ENV = "QINGLANG_MODEL_PATH"


def resolve_model(spec: AbuseModel | str | Path | None) -> AbuseModel | None:
    """`"default"`: $QINGLANG_MODEL_PATH if set ("none" turns the model off), else the shipped
    artifact, else None (a checkout without it still runs the rule path); a path loads that
    file; an AbuseModel is used as is; None means the rule path alone."""
    if spec is None or isinstance(spec, AbuseModel):
        return spec
    if spec == "default":
        configured = os.environ.get(MODEL_PATH_ENV, "").strip()
        if configured.lower() == "none":
            return None
        if configured:
            return AbuseModel.load(configured)
        try:
            return AbuseModel.load_default()
        except FileNotFoundError:
            return None
    return AbuseModel.load(spec)

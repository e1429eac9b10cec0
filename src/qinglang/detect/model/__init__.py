"""The learned abuse (offensive speech) model: features, training, artifact, evaluation.

from qinglang.detect.model import AbuseModel
model = AbuseModel.load_default()
model.predict_proba(["你就是个傻逼", "今天天气不错"])  # calibrated P(offensive)
"""

from qinglang.detect.model.artifact import AbuseModel

__all__ = ["AbuseModel"]

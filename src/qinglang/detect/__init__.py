"""Content-safety engine: is a Chinese text harmful to minors, in which category, and why.

from qinglang.detect import Detector
d = Detector.default()
d.check("你就是个傻逼", scene="general").to_dict()
"""

from qinglang.detect.engine import Detector
from qinglang.detect.lexicon import LexiconError, load_lexicon_file
from qinglang.detect.scenes import SCENES, UnknownSceneError
from qinglang.detect.verdict import Action, CategoryScore, Hit, Source, Verdict

__all__ = [
    "SCENES",
    "Action",
    "CategoryScore",
    "Detector",
    "Hit",
    "LexiconError",
    "Source",
    "UnknownSceneError",
    "Verdict",
    "load_lexicon_file",
]

"""Qinglang (清朗): protecting minors online."""

__version__ = "0.1.0"

"""Archipel: plan and run AI compute across many clouds."""

__version__ = "0.1.0"

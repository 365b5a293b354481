"""SYNTHETIC demo data for `mizan demo`: a seeded generator writing real delivery layouts."""

from pipelines.demo.generate import generate_demo

__all__ = ["generate_demo"]

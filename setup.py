"""The optional C core of the X12 reader (everyclaim/x12/_fast.c); everything else is in pyproject.toml.

``optional=True``: without a C compiler the build goes on and the reader runs in pure Python
(everyclaim/x12/native.py).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension("everyclaim.x12._fast", ["everyclaim/x12/_fast.c"], optional=True,
                  extra_compile_args=["-O2"]),
    ]
)

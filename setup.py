"""The optional C cores: the X12 reader (everyclaim/x12/_fast.c), the 835 posting rows
(everyclaim/ledger/_rows.c) and their insert into SQLite (everyclaim/ledger/_sqlite.c); everything else
is in pyproject.toml.

``optional=True``: without a C compiler the build goes on and the reader runs in pure Python
(everyclaim/x12/native.py, everyclaim/ledger/post.py).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        # both include everyclaim/_decimal.h (Decimals read and built in place)
        Extension("everyclaim.x12._fast", ["everyclaim/x12/_fast.c"], optional=True,
                  extra_compile_args=["-O2"], depends=["everyclaim/_decimal.h"]),
        Extension("everyclaim.ledger._rows", ["everyclaim/ledger/_rows.c"], optional=True,
                  extra_compile_args=["-O2"], depends=["everyclaim/_decimal.h"]),
        # links the system's SQLite (libsqlite3-dev), the library Python's sqlite3 module loads
        Extension("everyclaim.ledger._sqlite", ["everyclaim/ledger/_sqlite.c"], optional=True,
                  extra_compile_args=["-O2"], libraries=["sqlite3"]),
    ]
)

"""everyclaim: work every claim in accounts receivable."""

__version__ = "0.1.0"

"""everyclaim."""

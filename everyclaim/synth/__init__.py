"""A synthetic A/R world: realistic 837/277CA/835/CSV files with the truth behind every claim."""

"""Ingest: detect what a file is, read it, post it to the ledger atomically."""

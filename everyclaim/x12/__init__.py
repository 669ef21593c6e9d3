"""Read and write X12 5010: tokenizer, implementation guides as data, projections to records, writers."""

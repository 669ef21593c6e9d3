"""The claim ledger: records, schema, migrations, posting, balances and reconciliation."""

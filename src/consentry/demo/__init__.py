"""Demo data for `consentry demo`: a Dutch coffee roaster and its contacts."""

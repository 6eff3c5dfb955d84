"""The live schema matches the migrations; constraints and audit timestamps hold in SQL."""

"""Python user-defined functions: plain typed functions, unit tested alone, wrapped with udf() where registered."""

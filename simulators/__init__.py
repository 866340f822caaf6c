"""Mall model, probe and door-sensor generator, load generator."""

"""PyFlink jobs: SQL files for the hot path, thin Python launchers, sinks."""

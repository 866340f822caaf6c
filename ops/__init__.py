"""The operations layer: the `footfall` command, the local stack (services, processes, the
job's two run modes, its supervisor and lifecycle), the demo and reset. It stands on
every other package; none imports it."""

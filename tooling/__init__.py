"""Dev tooling of customer-analytics: the data generator, the benchmark and the pandas reference.

The runtime (orchestration, dashboard) never imports it; the `customer-analytics generate` and
`customer-analytics bench` commands load it through the entry points of tooling.cli only when
they are called.
"""

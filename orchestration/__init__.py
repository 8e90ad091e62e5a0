"""customer-analytics: the Python side of the project (CLI, data generator, Dagster definitions)."""

import warnings

# pyspark (installed for the Spark target, docs/spark.md) warns when it is imported that it does
# not fully support pandas 3; Great Expectations imports it whenever it is installed. The
# project moves no pandas data through pyspark's pandas API, so the warning only adds noise to
# every validation.
warnings.filterwarnings(
    "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
)

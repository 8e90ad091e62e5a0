"""The benchmark: one data set, one machine, every way of computing the marts side by side.

Steps (each in its own process, so that its peak memory is its own):
  generate  the generator writes the raw files (Parquet; the shipped CSV seeds at scale S);
  dbt       a full `dbt build` (models and every test) reading them through raw_data_path;
  floor     the engine floor: the compiled SQL of every model (and every data test) of that
            build, run in DAG order in one DuckDB connection with the same settings, no dbt;
  dagster   the same dbt build materialised through Dagster (dbt assets and their checks), on
            the raw files landed beforehand;
  pandas    the pandas peer: tooling.pandas_reference on the same files, its results
            then checked equal to the marts;
  polars    the Polars peer: tooling.polars_reference (lazy, streaming) on the same files,
            checked equal to the marts like the pandas peer;
  io_floor  the I/O floor: one DuckDB scan of every column of every raw file as text and
            nothing else, the limit that every step above is a distance to;
  gx        the Great Expectations suites (customer-analytics validate) on the build;
  incremental  the generated data's last day lands (it was held back from every step above)
            and `dbt build` runs again on the same build file: the daily incremental run;
  full      for comparison, a full `dbt build` of the same complete files into a fresh file;
            its marts are checked equal to the incremental run's.
Wall time and peak RSS of the whole process tree are sampled every 50 ms (psutil); the note
of each dbt step (dbt, incremental, full) splits its time into models, data tests and start-up.

Run it with `make bench SCALE=M` (or `customer-analytics bench --scale M`).

Modules: steps (the registry: each step and what it needs), run (one run), measure (time and
memory of a process tree), data (scales, raw row counts, the held-back day), floor (the engine
floor), io_floor (the I/O floor), peers (Dagster, pandas and Polars in their own processes),
compare (marts against marts and against the pandas and Polars peers), results (the JSON and
Markdown).
"""

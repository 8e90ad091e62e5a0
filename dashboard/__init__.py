"""The shipped dashboard: a Streamlit app (app.py) and an offline HTML report (report.py), both
reading only the serving file that `customer-analytics publish` writes."""

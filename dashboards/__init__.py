"""Streamlit app: the pages in views/ lay out; queries (data, health), charts and map layers live beside them."""

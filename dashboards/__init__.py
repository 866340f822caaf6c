"""Streamlit app: pages lay out; query and layer builders live beside them."""

"""The Footfall dashboards: `streamlit run dashboards/app.py` (or `make dashboard`)."""

from __future__ import annotations

import sys
from pathlib import Path

# Streamlit runs this file as a script; the project root makes `dashboards` importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit as st

PAGES = Path(__file__).resolve().parent / "pages"

st.set_page_config(page_title="Footfall", layout="wide")
st.navigation([
    st.Page(PAGES / "live_map.py", title="Live map", icon=":material/map:", url_path="live"),
]).run()

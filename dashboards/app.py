"""The Footfall dashboards: `streamlit run dashboards/app.py` (or `make dashboard`)."""

from __future__ import annotations

import sys
from pathlib import Path

# Streamlit runs this file as a script; the project root makes `dashboards` importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit as st

# Not named `pages/`: Streamlit would also serve that folder as an app of its own.
VIEWS = Path(__file__).resolve().parent / "views"

#: (file in views/, title, icon, URL path); the first is the home page, served at `/` only.
PAGE_LIST = [
    ("portfolio.py", "Portfolio", ":material/apartment:", "portfolio"),
    ("overview.py", "Overview", ":material/dashboard:", "overview"),
    ("live_map.py", "Live map", ":material/map:", "live"),
    ("shops.py", "Shops", ":material/storefront:", "shops"),
    ("customers.py", "Customers", ":material/group:", "customers"),
    ("alerts.py", "Alerts", ":material/notifications:", "alerts"),
    ("system.py", "System", ":material/monitor_heart:", "system"),
]

st.set_page_config(page_title="Footfall", page_icon=":material/footprint:", layout="wide")
st.navigation([
    st.Page(VIEWS / file, title=title, icon=icon, url_path=path, default=n == 0)
    for n, (file, title, icon, path) in enumerate(PAGE_LIST)
]).run()

"""NoteLens services: plain Python, no Streamlit. Pages call into this package only."""

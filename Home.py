"""NoteLens: the app shell. `streamlit run Home.py` opens the navigation grouped by user (clinicians, prompt
engineers, managers); the home page itself is pages/0_Overview.py."""

from ui.shell import run

run()

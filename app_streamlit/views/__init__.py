"""One module per part of the workbench (named ``views`` because Streamlit treats a ``pages/``
folder beside the entry script as a multipage app)."""

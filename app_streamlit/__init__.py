"""The Phi-nance workbench (Streamlit): ``streamlit run app_streamlit/live_workbench.py`` or
``phi workbench``.

Pages call the ``phi`` API only (data store and cache, indicator registry, blender, pipeline,
run history, regime engine); no finance logic lives here. Modules:

- ``live_workbench.py`` — the entry script: theme, navigation, views;
- ``styles.py`` — palette, CSS, plotly layout; ``charts.py`` — figures, display downsampling;
- ``forms.py`` — widget keys and widget values -> phi configs; ``ui.py`` — page helpers;
- ``state.py`` — form vs loaded dataset vs shown run (what differs, when results are stale);
- ``tables.py`` — trades formatted for people (dates, local times, %, money);
- ``jobs.py`` — background runs with progress and cancel; ``results.py``/``exports.py`` —
  one run's results and its exports;
- ``views/`` — one module per step or page.
"""

"""One module per tab. Each has ``build_<tab>_tab()`` (the controls, wired to its handler) and ``run_<tab>``
(the handler, with a stable ``api_name``). Tabs import the shared pieces (``..shared``, ``..run``), never
each other. A new tab: a module here with both functions, and one line in :data:`propgrad.app.demo.TABS`.
"""

"""propgrad's Gradio app: the only part of propgrad that imports gradio (imported by app.py and the tests).

| module | what it holds |
| --- | --- |
| ``demo`` | ``build_demo`` (the tabs in order, the queue) and ``launch_kwargs`` |
| ``tabs/<tab>.py`` | one tab's controls (``build_<tab>_tab``) and its handler (``run_<tab>``) |
| ``shared`` | what every tab shows: model controls, result components, the Run wiring (the answer first, then the
  animation, null plot and zip), the error wrapper, the safe image input |
| ``defaults`` | each tab's default answer, computed once per process after start-up and shown on page load |
| ``run`` | what every handler does after reading its boxes: models, explain, write results |
| ``parsing`` | typed text -> checked values, with messages that name the box (gradio-free) |
| ``model_inputs`` | the model boxes -> loaded models: bundled, uploaded files, hub ids (gradio-free) |
| ``results`` | what is shown at once and what follows, the run's settings for report.json, the summary with the
  reading and the ranked table (gradio-free) |
| ``folders`` | a private folder per request; the visitors' runs kept within an hour, a total size and the disk's
  free space (gradio-free) |
| ``abandoned`` | a run whose page was closed, stopped at its next progress report (gradio-free to import) |
| ``settings`` | limits from the environment; whether visitors may name the server's files |
"""

"""One collection run over a returns folder: the session collect, export and report share, and collect itself."""

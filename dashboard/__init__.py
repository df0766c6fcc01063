"""MLP Lab's dashboard: the Dash app that trains mlpcore's network live in the browser.

Modules: app (wiring), layout (the page), callbacks (glue), figures and patches (pure
builders), sessions (where each tab's Trainer lives), validation (every raw input), ids.
"""

"""Component ids, named kind-first. The string values marked "contract" are stable: tests and
anyone automating a demo rely on them (issue 4, point 8). The rest are internal.
"""

# Buttons (contract)
BUTTON_TRAIN = "train-button"
BUTTON_STEP = "step-button"
BUTTON_RESET = "reset-button"
BUTTON_DOCUMENT = "document-button"

# The four main sliders and the speed slider (contract)
SLIDER_HIDDEN = "hidden-slider"
SLIDER_LR = "lr-slider"
SLIDER_REG = "reg-slider"
SLIDER_MAXIT = "maxit-slider"
SLIDER_SPEED = "speed-slider"

# Further controls
SLIDER_LAYERS = "layers-slider"
INPUT_SEED = "seed-input"
INPUT_DISPLAY = "display-input"
RADIO_ACTIVATION = "activation-radio"
CHECKLIST_CURVES = "curves-checklist"

# Read-outs next to the sliders ("Learning rate 0.01")
TEXT_HIDDEN = "hidden-value"
TEXT_LR = "lr-value"
TEXT_REG = "reg-value"
TEXT_MAXIT = "maxit-value"
TEXT_SPEED = "speed-value"
TEXT_LAYERS = "layers-value"

# Figures (contract): one weights figure holds one heatmap per weight matrix
GRAPH_CURVES = "curves-graph"
GRAPH_CONFUSION = "confusion-graph"
GRAPH_WEIGHTS = "weights-graph"

# The tabs under the figures (dashboard/panels): each panel module owns its own ids
TABS_PANELS = "panel-tabs"

# Status line (contract): carries data-state and data-iteration
DIV_STATUS = "status"

# Timer and client-side state
INTERVAL_TICK = "tick-interval"
STORE_SESSION = "session-store"  # this tab's session id (a fresh uuid per page load)
STORE_CLIENT = "client-store"  # what the page shows: {"run": run id, "n": history points}
STORE_PULSE = "pulse-store"  # written by buttons/controls to make the tick render at once

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

# The "Data" group of the controls (issue 8; callbacks.DATA_CONTROLS lists the value holders):
# the data set, the chosen built-in set's parameters, the split and standardisation
DROPDOWN_DATA = "data-dropdown"  # a built-in set's name, or "csv" (this tab's upload)
SLIDER_DATA_POINTS = "data-points-slider"
SLIDER_DATA_CLASSES = "data-classes-slider"
SLIDER_DATA_NOISE = "data-noise-slider"
RADIO_SPLIT = "split-radio"  # "document" or "fraction"
SLIDER_TRAIN_FRACTION = "train-fraction-slider"
CHECKLIST_STANDARDIZE = "standardize-checklist"  # a one-box switch: [] or ["standardize"]
TEXT_DATA_INFO = "data-info"  # the chosen set's description
TEXT_DATA_POINTS = "data-points-value"
TEXT_DATA_CLASSES = "data-classes-value"
TEXT_DATA_NOISE = "data-noise-value"
TEXT_TRAIN_FRACTION = "train-fraction-value"
DIV_DATA_POINTS = "data-points-control"  # each parameter's block, hidden where it does not apply
DIV_DATA_CLASSES = "data-classes-control"
DIV_DATA_NOISE = "data-noise-control"
DIV_TRAIN_FRACTION = "train-fraction-control"

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

# Shareable links (dashboard/panels/share.py): the page's URL, and the classroom-mode marker
# whose classes (hide-<control>) hide controls through assets/share.css
LOCATION_URL = "url-location"
DIV_CLASSROOM = "classroom"

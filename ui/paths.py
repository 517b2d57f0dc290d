"""The page scripts, named once."""

DATA_PAGE = "pages/data.py"
TRAIN_PAGE = "pages/train.py"
THRESHOLD_PAGE = "pages/threshold.py"
INSPECT_PAGE = "pages/inspect.py"
SCORE_PAGE = "pages/score.py"
COMPARE_PAGE = "pages/compare.py"

"""The libraries Gemini's code-execution sandbox documents, and which of them this one has."""

from __future__ import annotations

import importlib.util

# Distribution name (as Google's documentation lists it) -> the module to import.
GEMINI_LIBRARIES: dict[str, str] = {
    "attrs": "attrs", "chess": "chess", "contourpy": "contourpy", "fpdf": "fpdf",
    "geopandas": "geopandas", "imageio": "imageio", "jinja2": "jinja2", "joblib": "joblib",
    "jsonschema": "jsonschema", "lxml": "lxml", "matplotlib": "matplotlib", "mpmath": "mpmath",
    "numpy": "numpy", "opencv-python": "cv2", "openpyxl": "openpyxl", "pandas": "pandas",
    "pillow": "PIL", "protobuf": "google.protobuf", "pylatex": "pylatex",
    "pyparsing": "pyparsing", "PyPDF2": "PyPDF2", "python-dateutil": "dateutil",
    "python-docx": "docx", "python-pptx": "pptx", "reportlab": "reportlab",
    "scikit-learn": "sklearn", "scipy": "scipy", "seaborn": "seaborn", "six": "six",
    "striprtf": "striprtf", "sympy": "sympy", "tabulate": "tabulate",
    "tensorflow": "tensorflow", "toolz": "toolz", "xlrd": "xlrd",
}

IMPORT_CHECK_CODE = """\
import importlib, json
found = {}
for dist, mod in %r.items():
    try:
        importlib.import_module(mod)
        found[dist] = True
    except Exception:
        found[dist] = False
print(json.dumps(found))
"""


def installed() -> dict[str, bool]:
    """Distribution name -> whether its module can be found (no import: fast)."""
    found = {}
    for dist, mod in GEMINI_LIBRARIES.items():
        try:
            found[dist] = importlib.util.find_spec(mod) is not None
        except (ImportError, ValueError):
            found[dist] = False
    return found

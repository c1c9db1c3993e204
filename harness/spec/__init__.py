"""Spec: eval files (``*.eval.yaml``) in, validated cases out.

What it does: loads YAML with line numbers (``yamlload``), validates it with the format's
pydantic models (``models``), words every problem so it says where and how to fix it
(``messages``), builds the cases (``load``) and exports the JSON Schema (``schema``).

May import: ``checks`` (to parse ``expect:`` entries), ``paths``, pydantic and PyYAML; never
google.genai, vcr or httpx2.

Hands on: :class:`~harness.spec.case.Case` values, or a :class:`~harness.spec.case.SpecError`
listing every problem in a file.
"""

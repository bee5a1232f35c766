"""The notebooks: stored without outputs, and every cell runs on the bundled data."""

import os
import sys
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = ["prevalence_report", "year_over_year", "bayes_small_area", "sensitive_questions",
         "who_is_most_affected"]


def test_every_notebook_is_listed():
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_stored_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    assert all(c.outputs == [] and c.execution_count is None for c in code)


def run_notebook(name, tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    # the kernel is this interpreter (the project's venv), whatever kernels are installed
    from jupyter_client.kernelspec import NATIVE_KERNEL_NAME

    env_path = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    os.environ["PATH"] = env_path
    client = NotebookClient(nb, timeout=600, kernel_name=NATIVE_KERNEL_NAME,
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute()
    return nb


def outputs(nb):
    texts, images, errors = [], 0, []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                texts.append(out.text)
                if out.name == "stderr":
                    errors.append(out.text)
            elif out.output_type in ("execute_result", "display_data"):
                texts.append(out.data.get("text/plain", ""))
                images += "image/png" in out.data
            elif out.output_type == "error":
                errors.append(out.ename)
    return "\n".join(texts), images, errors


@pytest.mark.slow
def test_prevalence_report_notebook(tmp_path):
    nb = run_notebook("prevalence_report", tmp_path)
    text, images, errors = outputs(nb)
    assert errors == []
    assert "ok: 472 rows, 5 regions" in text
    assert "| region | Indicator | Estimate (%) | 95% CI | n | Note |" in text
    assert "Farms with evidence of child labour" in text
    assert images == 2


@pytest.mark.slow
def test_year_over_year_notebook(tmp_path):
    nb = run_notebook("year_over_year", tmp_path)
    text, images, errors = outputs(nb)
    assert errors == []
    assert "Change (percentage points)" in text
    assert "odds_ratio" in text and "jackknife_se" in text
    assert images == 1


@pytest.mark.slow
def test_bayes_small_area_notebook(tmp_path):
    nb = run_notebook("bayes_small_area", tmp_path)
    text, images, errors = outputs(nb)
    assert errors == [], errors
    assert "max_r_hat" in text and "prob_decrease" in text
    assert images == 1


def test_sensitive_questions_notebook(tmp_path):
    nb = run_notebook("sensitive_questions", tmp_path)
    text, images, errors = outputs(nb)
    assert errors == []
    assert "list experiment" in text and "forced response" in text
    assert "under-report" in text


def test_who_is_most_affected_notebook(tmp_path):
    nb = run_notebook("who_is_most_affected", tmp_path)
    text, images, errors = outputs(nb)
    assert errors == []
    assert "regionBalkan" in text and "civil_servants_on_farm" in text
    assert images == 1

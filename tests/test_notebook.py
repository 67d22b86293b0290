"""The training notebook runs top to bottom in quick mode."""
from __future__ import annotations

import nbformat
from nbclient import NotebookClient

from fetalhc.paths import PROJECT_ROOT

def test_training_notebook_runs_in_quick_mode(mini_dataset_csv, tmp_path, monkeypatch):
    monkeypatch.setenv("FETALHC_NOTEBOOK_QUICK", "1")
    monkeypatch.setenv("FETALHC_DATASET_CSV", str(mini_dataset_csv))
    monkeypatch.setenv("FETALHC_NOTEBOOK_OUT", str(tmp_path / "out"))
    nb = nbformat.read(PROJECT_ROOT / "notebooks" / "train_dag_vnet.ipynb", as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert (tmp_path / "out" / "run" / "savedmodel" / "saved_model.pb").is_file()
    outputs = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "parameters" in outputs

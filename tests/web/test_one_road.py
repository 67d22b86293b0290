"""One road from image to result: evaluate, batch measurement and ``POST /`` agree, and every
form of the answer (JSON, OpenAPI schema, CSV) comes from the one result record."""
from __future__ import annotations

import dataclasses

import pandas as pd
from jsonschema import Draft202012Validator
from testkit.samples import HC18_IMAGE, JSON, hc18_reference, upload

from fetalhc.data.hc18 import annotation_name, subject_id
from fetalhc.evaluation.evaluate import evaluate_table
from fetalhc.inference.batch import COLUMNS, measure_files
from fetalhc.record import MeasurementAnswer, MeasurementRecord
from fetalhc.record_csv import csv_columns, flat_row
from fetalhc.web.openapi import openapi_document

SECOND_IMAGE = "011_HC.png"


def test_evaluate_batch_and_post_give_the_same_hc(hc18, client, predictor):
    names = [HC18_IMAGE, SECOND_IMAGE]
    sizes = {name: hc18_reference(hc18, name)[1] for name in names}
    table = pd.DataFrame({"filename": names, "subject": [subject_id(n) for n in names],
                          "pixel_size_mm": [sizes[n] for n in names],
                          "image_path": [str(hc18 / "training_set" / n) for n in names],
                          "annotation_path": [str(hc18 / "training_set" / annotation_name(n)) for n in names]})
    evaluated = evaluate_table(table, predictor, progress=False)[0].set_index("filename")["hc_pred_mm"]
    batch = measure_files([hc18 / "training_set" / n for n in names], sizes,
                          dataclasses.replace(predictor.settings, model_dir=predictor.segmenter.path))
    for name, row in zip(names, batch):
        data, pixel_size_mm, _ = hc18_reference(hc18, name)
        answer = client.post("/", data={"image": upload(data), "pixel_size_mm": str(pixel_size_mm)},
                             headers=JSON).get_json()
        assert answer["circumference_mm"] == row["circumference_mm"] == round(evaluated[name], 2)


def test_the_openapi_schema_is_the_record_schema(client):
    measurement = openapi_document()["components"]["schemas"]["Measurement"]
    assert set(measurement["properties"]) == set(MeasurementAnswer.model_fields)
    assert set(MeasurementRecord.model_fields) <= set(measurement["required"])


def test_the_csv_row_is_the_flat_json_answer(hc18, client, predictor):
    data, pixel_size_mm, _ = hc18_reference(hc18)
    answer = client.post("/", data={"image": upload(data), "pixel_size_mm": str(pixel_size_mm), "ga_weeks": "22"},
                         headers=JSON).get_json()
    Draft202012Validator({**openapi_document()["components"]["schemas"]["Measurement"],
                          "components": openapi_document()["components"]}).validate(answer)
    record = MeasurementRecord.model_validate({k: v for k, v in answer.items() if k in MeasurementRecord.model_fields})
    row = flat_row(record)
    assert list(row) == csv_columns()  # calibrated and with a GA, every column has a value
    assert row["ellipse.center_x_px"] == answer["ellipse"]["center_x_px"]
    assert row["gestational_age.hadlock.ga_weeks"] == answer["gestational_age"]["hadlock"]["ga_weeks"]
    assert row["quality_flags"] == "; ".join(answer["quality_flags"])
    assert COLUMNS[:3] == ["file", "status", "error"] and set(COLUMNS[3:]) == set(csv_columns()) - {"status"}


def test_every_answer_carries_an_ordered_interval_around_its_hc(hc18, client):
    data, pixel_size_mm, reference = hc18_reference(hc18)
    calibrated = client.post("/", data={"image": upload(data), "pixel_size_mm": str(pixel_size_mm)},
                             headers=JSON).get_json()
    uncalibrated = client.post("/", data={"image": upload(data)}, headers=JSON).get_json()
    low, high = calibrated["circumference_interval_mm"]
    assert low < calibrated["circumference_mm"] < high and calibrated["circumference_interval_level"] == 0.9
    assert uncalibrated["circumference_interval_mm"] is None
    low_px, high_px = uncalibrated["circumference_interval_px"]
    assert low_px < uncalibrated["circumference_px"] < high_px
    assert calibrated["summary"][0]["label"] == "HC 90 % interval"
    assert f"{low:.2f} to {high:.2f} mm" == calibrated["summary"][0]["value"]

"""The MAX Audio Classifier API as its source defines it: names, shapes and messages."""

from __future__ import annotations

import re

PREDICT = "/model/predict"
METADATA = "/model/metadata"
SWAGGER = "/swagger.json"
TOP = 5
CLIP_SECONDS = 10.0
RATE = 16000

def metadata_doc(model: dict) -> dict:
    """MAX's metadata shape naming the model that actually answers (serve-max)."""
    name = model.get("model", "")
    if name.startswith("yamnet"):
        return {"id": name.replace("/", "-gen"), "name": "YAMNet on ONNX Runtime (SFX Sidecar serve-max)",
                "description": f"YAMNet MobileNet v1 trained on AudioSet, {model.get('classes', 521)} classes; "
                               f"model file {model.get('source', '')}",
                "type": "audio_classification", "source": "https://github.com/tensorflow/models/tree/master/"
                                                          "research/audioset/yamnet",
                "license": "Apache 2.0"}
    return {"id": name or "sidecar", "name": f"SFX Sidecar {name} engine",
            "description": "acoustic descriptors; names no sound sources", "type": "audio_classification",
            "license": "Apache 2.0"}

WAV_MIMETYPE = re.compile(r"audio/.*wav")


def invalid_type(mimetype: str) -> dict:
    return {"status": "error", "message": f"Invalid file type/extension: {mimetype}"}


INVALID_START = {"status": "error", "message": "Invalid start time: value outside audio clip"}


def parse_filter(value: str | None) -> list[str]:
    """Comma-separated label names; empty entries are ignored."""
    if not value:
        return []
    return [x.strip() for x in value.split(",") if x.strip()]


def swagger_doc() -> dict:
    return {
        "swagger": "2.0",
        "basePath": "/",
        "info": {"title": "MAX Audio Classifier", "version": "1.2.0",
                 "description": "Identify sounds in short audio clips"},
        "produces": ["application/json"],
        "consumes": ["application/json"],
        "tags": [{"name": "model", "description": "Model information and inference operations"}],
        "paths": {
            METADATA: {"get": {"operationId": "get_meta_data", "tags": ["model"],
                               "summary": "Return the metadata associated with the model",
                               "responses": {"200": {"description": "Success",
                                                     "schema": {"$ref": "#/definitions/ModelMetadata"}}}}},
            PREDICT: {"post": {
                "operationId": "post_predict", "tags": ["model"],
                "summary": "Predict audio classes from input data",
                "consumes": ["multipart/form-data"],
                "parameters": [
                    {"name": "audio", "in": "formData", "type": "file", "required": True,
                     "description": "signed 16-bit PCM WAV audio file"},
                    {"name": "start_time", "in": "formData", "type": "number", "default": 0,
                     "description": "The number of seconds into the audio file the prediction should start at."},
                    {"name": "filter", "in": "formData", "type": "array", "items": {"type": "string"},
                     "collectionFormat": "csv", "description": "List of labels to filter (optional)"},
                ],
                "responses": {"200": {"description": "Success",
                                      "schema": {"$ref": "#/definitions/ModelPredictResponse"}},
                              "400": {"description": "Invalid input"}}}},
        },
        "definitions": {
            "ModelMetadata": {"type": "object", "required": ["description", "id", "license", "name"],
                              "properties": {k: {"type": "string"} for k in
                                             ("id", "name", "description", "type", "source", "license")}},
            "LabelPrediction": {"type": "object", "properties": {
                "label_id": {"type": "string"}, "label": {"type": "string"},
                "probability": {"type": "number"}}},
            "ModelPredictResponse": {"type": "object", "required": ["status"], "properties": {
                "status": {"type": "string"},
                "predictions": {"type": "array", "items": {"$ref": "#/definitions/LabelPrediction"}}}},
        },
    }

